//! SLA clocks, derived from an incident and the policy at a given `now`: time to acknowledge
//! against the response target, time to resolve against the resolution target, and when the
//! next stakeholder update is due. Nothing is stored; the clocks are recomputed on every read.

use serde::Serialize;

use crate::{Incident, Policy, Timestamp};

/// One target: its deadline, when it was met (if it was), and whether it is (or was) breached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Clock {
    /// The configured target, e.g. `15m` or `next-business-day`.
    pub target: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub deadline: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub met_at: Option<Timestamp>,
    /// Milliseconds from the start to `met_at`, or to `now` while the clock runs.
    pub elapsed_ms: i64,
    /// Milliseconds left before the deadline (negative once past it).
    pub remaining_ms: i64,
    pub breached: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaClocks {
    pub response: Clock,
    pub resolution: Clock,
    /// When the next status update is due; `None` when the incident is resolved or the
    /// severity's cadence is "as needed".
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub next_update_due: Option<Timestamp>,
    pub update_overdue: bool,
}

fn clock(target: String, start: Timestamp, deadline: Timestamp, met_at: Option<Timestamp>, now: Timestamp) -> Clock {
    let end = met_at.unwrap_or(now);
    let ms = |a: Timestamp, b: Timestamp| b.as_millisecond() - a.as_millisecond();
    Clock {
        target,
        deadline,
        met_at,
        elapsed_ms: ms(start, end).max(0),
        remaining_ms: ms(end, deadline),
        breached: end > deadline,
    }
}

/// The clocks of `inc` at `now`, measured against the targets of its current severity.
pub fn clocks(inc: &Incident, policy: &Policy, now: Timestamp) -> SlaClocks {
    let level = policy.level(inc.severity);
    let start = inc.triggered_at;
    let response = clock(
        level.response_target.to_string(),
        start,
        level.response_target.deadline(start),
        inc.acknowledged_at,
        now,
    );
    let resolution = clock(
        level.resolution_target.to_string(),
        start,
        level.resolution_target.deadline(start),
        inc.resolved_at,
        now,
    );
    let next_update_due = match (inc.status.is_open(), level.update_every) {
        (true, Some(every)) => inc.last_update_at.saturating_add(every.to_signed()).ok(),
        _ => None,
    };
    SlaClocks { response, resolution, update_overdue: next_update_due.is_some_and(|due| now > due), next_update_due }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{decide, Command};
    use crate::{IncidentId, Severity, Status};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn declared(sev: Severity, at: &str) -> (Policy, Incident) {
        let p = Policy::default();
        let cmd = Command::Declare { title: "db down".into(), severity: sev, service: None, summary: None };
        let ev = decide(&p, None, &cmd, "alice", ts(at)).unwrap();
        (p.clone(), Incident::from_declared(IncidentId(1), &ev[0]).unwrap())
    }

    fn run(p: &Policy, inc: &mut Incident, cmd: Command, at: &str) {
        for e in decide(p, Some(inc), &cmd, "bob", ts(at)).unwrap() {
            inc.apply(&e);
        }
    }

    #[test]
    fn p1_acknowledged_in_ten_minutes_meets_its_response_target() {
        let (p, mut inc) = declared(Severity::P1, "2026-11-23T10:00:00Z");
        run(&p, &mut inc, Command::Acknowledge, "2026-11-23T10:10:00Z");
        let c = clocks(&inc, &p, ts("2026-11-23T12:00:00Z"));
        assert_eq!(c.response.elapsed_ms, 10 * 60_000);
        assert!(!c.response.breached);
        assert_eq!(c.resolution.deadline, ts("2026-11-23T14:00:00Z"));
        assert!(!c.resolution.breached);
    }

    #[test]
    fn an_unacknowledged_p0_breaches_after_five_minutes() {
        let (p, inc) = declared(Severity::P0, "2026-11-23T10:00:00Z");
        assert!(!clocks(&inc, &p, ts("2026-11-23T10:04:59Z")).response.breached);
        let c = clocks(&inc, &p, ts("2026-11-23T10:06:00Z"));
        assert!(c.response.breached);
        assert_eq!(c.response.remaining_ms, -60_000);
    }

    #[test]
    fn a_status_update_resets_the_communication_cadence() {
        let (p, mut inc) = declared(Severity::P0, "2026-11-23T10:00:00Z");
        assert_eq!(clocks(&inc, &p, ts("2026-11-23T10:00:00Z")).next_update_due, Some(ts("2026-11-23T10:15:00Z")));
        assert!(clocks(&inc, &p, ts("2026-11-23T10:16:00Z")).update_overdue);
        run(&p, &mut inc, Command::SetStatus { status: Status::Investigating, note: None }, "2026-11-23T10:14:00Z");
        let c = clocks(&inc, &p, ts("2026-11-23T10:16:00Z"));
        assert_eq!(c.next_update_due, Some(ts("2026-11-23T10:29:00Z")));
        assert!(!c.update_overdue);
    }

    #[test]
    fn resolved_incidents_owe_no_updates_and_stop_the_resolution_clock() {
        let (p, mut inc) = declared(Severity::P2, "2026-11-23T10:00:00Z");
        run(&p, &mut inc, Command::Resolve { root_cause: None, force: true }, "2026-11-23T19:00:00Z");
        let c = clocks(&inc, &p, ts("2026-11-24T10:00:00Z"));
        assert_eq!(c.next_update_due, None);
        assert!(c.resolution.breached, "resolved after 9h against an 8h target");
        assert_eq!(c.resolution.elapsed_ms, 9 * 3_600_000);
    }
}
