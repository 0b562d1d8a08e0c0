//! The on-call configuration a fresh installation starts with, reproducing the runbook's
//! escalation matrix as data: one policy per severity (`p0` .. `p4`), a `default` schedule
//! with `primary` and `secondary` weekly layers, and placeholder users for the people and
//! roles the matrix names (`vp-engineering`, `cto`, `ceo`, `engineering-manager`,
//! `team-lead`, `oncall-primary`, `oncall-secondary`). Placeholders have no contact methods,
//! so nothing is delivered to them until the operator redefines them: a `[[users]]` (or
//! `[[schedules]]`, `[[escalation_policies]]`) entry with the same id replaces the default.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use super::escalation::{BusinessHours, EscalationPolicy, Step, Target};
use super::rotation::Rotation;
use super::schedule::{Layer, Schedule};
use super::user::User;
use crate::{Duration, Severity};

/// The id of the policy that pages for `severity`: its name in lower case.
pub fn policy_id_for(severity: Severity) -> String {
    severity.as_str().to_ascii_lowercase()
}

pub const DEFAULT_SCHEDULE: &str = "default";

/// Placeholder people and roles, to be replaced with real users.
pub fn users() -> Vec<User> {
    [
        ("oncall-primary", "Primary on-call (placeholder: define your rotation)"),
        ("oncall-secondary", "Secondary on-call (placeholder: define your rotation)"),
        ("team-lead", "Team Lead (placeholder)"),
        ("engineering-manager", "Engineering Manager (placeholder)"),
        ("vp-engineering", "VP Engineering (placeholder)"),
        ("cto", "CTO (placeholder)"),
        ("ceo", "CEO (placeholder)"),
    ]
    .into_iter()
    .map(|(id, name)| User { id: id.into(), name: name.into(), contacts: Vec::new() })
    .collect()
}

/// `default`: weekly primary and secondary layers handing off Mondays 09:00 UTC.
pub fn schedules() -> Vec<Schedule> {
    let layer = |name: &str, user: &str| Layer {
        name: name.into(),
        rotation: Rotation {
            users: vec![user.into()],
            length: Duration::from_days(7),
            handoff: Time::constant(9, 0, 0, 0),
            time_zone: TimeZone::UTC,
            // A Monday, so weekly shifts run Monday to Monday.
            start: Date::constant(2026, 1, 5),
        },
        end: None,
    };
    vec![Schedule {
        id: DEFAULT_SCHEDULE.into(),
        name: "Default on-call".into(),
        layers: vec![layer("primary", "oncall-primary"), layer("secondary", "oncall-secondary")],
        overrides: Vec::new(),
    }]
}

/// The runbook matrix, one policy per severity.
pub fn policies() -> Vec<EscalationPolicy> {
    let m = Duration::from_mins;
    let h = Duration::from_hours;
    let all = || Target::Schedule { schedule: DEFAULT_SCHEDULE.into(), layer: None };
    let layer = |l: &str| Target::Schedule { schedule: DEFAULT_SCHEDULE.into(), layer: Some(l.into()) };
    let user = |u: &str| Target::User(u.into());
    let channel = |c: &str| Target::Channel(c.into());
    let step = |delay, targets| Step { delay, targets };
    let policy = |sev: Severity, name: &str, steps, business_hours| EscalationPolicy {
        id: policy_id_for(sev),
        name: name.into(),
        steps,
        repeat: 0,
        repeat_every: None,
        business_hours,
    };
    vec![
        policy(
            Severity::P0,
            "P0: all on-call, then VP Engineering, CTO, CEO",
            vec![
                step(m(0), vec![all(), channel("#incident-critical")]),
                step(m(15), vec![user("vp-engineering")]),
                step(m(30), vec![user("cto")]),
                step(h(1), vec![user("ceo")]),
            ],
            None,
        ),
        policy(
            Severity::P1,
            "P1: primary, secondary, engineering manager, VP Engineering",
            vec![
                step(m(0), vec![layer("primary"), channel("#incident-high")]),
                step(m(30), vec![layer("secondary")]),
                step(h(1), vec![user("engineering-manager")]),
                step(h(2), vec![user("vp-engineering")]),
            ],
            None,
        ),
        policy(
            Severity::P2,
            "P2: primary, then team lead, engineering manager",
            vec![
                step(m(0), vec![layer("primary"), channel("#incident-all")]),
                step(h(2), vec![user("team-lead")]),
                step(h(4), vec![user("engineering-manager")]),
            ],
            None,
        ),
        policy(
            Severity::P3,
            "P3: primary during business hours",
            vec![step(m(0), vec![layer("primary")])],
            Some(BusinessHours {
                time_zone: TimeZone::UTC,
                open: Time::constant(9, 0, 0, 0),
                close: Time::constant(17, 0, 0, 0),
            }),
        ),
        policy(Severity::P4, "P4: no page", Vec::new(), None),
    ]
}
