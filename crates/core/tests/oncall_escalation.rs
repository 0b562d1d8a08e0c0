//! The escalation calculator against the default matrix and hand-made policies: timing,
//! acknowledgement, manual escalation, repeats, business hours and target resolution.

use jiff::Timestamp;
use sevwatch_core::oncall::defaults::policy_id_for;
use sevwatch_core::oncall::{
    escalate, EscalationInput, EscalationPolicy, OnCallConfig, Override, Resolved, Step, StepRef, Target,
};
use sevwatch_core::{Duration, Severity};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const T0: &str = "2026-11-23T10:00:00Z"; // a Monday

fn at(mins: i64) -> Timestamp {
    ts(T0).checked_add(jiff::SignedDuration::from_mins(mins)).unwrap()
}

fn step(round: u32, step: usize) -> StepRef {
    StepRef { round, step }
}

fn input<'a>(fired: &'a [StepRef], manual: &'a [Timestamp]) -> EscalationInput<'a> {
    EscalationInput { triggered_at: ts(T0), acknowledged_at: None, resolved_at: None, fired, manual }
}

/// Steps (as offsets in minutes from the trigger) that fall due, walking a fake clock forward
/// a minute at a time and firing whatever is returned, until nothing is left.
fn walk(policy: &EscalationPolicy, manual: &[Timestamp], ack: Option<i64>) -> Vec<(StepRef, i64)> {
    let cfg = OnCallConfig::default();
    let mut fired = Vec::new();
    let mut log = Vec::new();
    for minute in 0..=6 * 60 {
        let now = at(minute);
        let mut inp = input(&fired, manual);
        inp.acknowledged_at = ack.filter(|a| *a <= minute).map(at);
        let out = escalate(policy, &cfg.schedules, &inp, now);
        let due: Vec<StepRef> = out.due.iter().map(|d| d.step).collect();
        log.extend(due.iter().map(|s| (*s, minute)));
        fired.extend(due);
    }
    log
}

/// (minutes after the trigger, targets) for each step of one severity.
type Matrix = &'static [(i64, &'static [&'static str])];

#[test]
fn the_default_policies_reproduce_the_runbook_matrix() {
    let cfg = OnCallConfig::default();
    let cases: [(Severity, Matrix); 5] = [
        (
            Severity::P0,
            &[
                (0, &["schedule:default", "channel:#incident-critical"]),
                (15, &["user:vp-engineering"]),
                (30, &["user:cto"]),
                (60, &["user:ceo"]),
            ],
        ),
        (
            Severity::P1,
            &[
                (0, &["schedule:default/primary", "channel:#incident-high"]),
                (30, &["schedule:default/secondary"]),
                (60, &["user:engineering-manager"]),
                (120, &["user:vp-engineering"]),
            ],
        ),
        (
            Severity::P2,
            &[
                (0, &["schedule:default/primary", "channel:#incident-all"]),
                (120, &["user:team-lead"]),
                (240, &["user:engineering-manager"]),
            ],
        ),
        (Severity::P3, &[(0, &["schedule:default/primary"])]),
        (Severity::P4, &[]),
    ];
    for (sev, want) in cases {
        let p = cfg.policy_for(sev).unwrap_or_else(|| panic!("no default policy for {sev}"));
        assert_eq!(p.id, policy_id_for(sev));
        let got: Vec<(i64, Vec<String>)> = p
            .steps
            .iter()
            .map(|s| (s.delay.as_millis() / 60_000, s.targets.iter().map(|t| t.to_string()).collect()))
            .collect();
        let want: Vec<(i64, Vec<String>)> =
            want.iter().map(|(m, t)| (*m, t.iter().map(|s| s.to_string()).collect())).collect();
        assert_eq!(got, want, "{sev}");
    }
    assert!(cfg.policy_for(Severity::P3).unwrap().business_hours.is_some(), "P3 pages in business hours only");
}

#[test]
fn an_unanswered_p1_climbs_the_ladder_at_the_matrix_times() {
    let p1 = OnCallConfig::default().policy_for(Severity::P1).unwrap().clone();
    let got = walk(&p1, &[], None);
    assert_eq!(got, [(step(0, 0), 0), (step(0, 1), 30), (step(0, 2), 60), (step(0, 3), 120)]);
}

#[test]
fn acknowledging_stops_further_escalation() {
    let p0 = OnCallConfig::default().policy_for(Severity::P0).unwrap().clone();
    let got = walk(&p0, &[], Some(20));
    assert_eq!(got, [(step(0, 0), 0), (step(0, 1), 15)]);
    let cfg = OnCallConfig::default();
    let mut inp = input(&[], &[]);
    inp.acknowledged_at = Some(at(1));
    let out = escalate(&p0, &cfg.schedules, &inp, at(45));
    assert!(out.due.is_empty() && out.next_at.is_none(), "{out:?}");
    inp.acknowledged_at = None;
    inp.resolved_at = Some(at(2));
    let out = escalate(&p0, &cfg.schedules, &inp, at(45));
    assert!(out.due.is_empty() && out.next_at.is_none(), "resolving stops it too");
}

#[test]
fn escalate_now_jumps_to_the_next_step_and_keeps_the_remaining_gaps() {
    let p1 = OnCallConfig::default().policy_for(Severity::P1).unwrap().clone();
    // Pressed at 5 min: secondary (due at 30) fires at 5; manager and VP keep their 30 and 60
    // minute gaps after it, at 35 and 95.
    let got = walk(&p1, &[at(5)], None);
    assert_eq!(got, [(step(0, 0), 0), (step(0, 1), 5), (step(0, 2), 35), (step(0, 3), 95)]);
    // Pressed twice at the same minute: two steps jump.
    let got = walk(&p1, &[at(5), at(5)], None);
    assert_eq!(got, [(step(0, 0), 0), (step(0, 1), 5), (step(0, 2), 5), (step(0, 3), 65)]);
    // Pressed after the ladder has finished: nothing more to do.
    let got = walk(&p1, &[at(200)], None);
    assert_eq!(got.len(), 4);
}

#[test]
fn the_next_step_time_is_what_a_durable_timer_needs() {
    let cfg = OnCallConfig::default();
    let p2 = cfg.policy_for(Severity::P2).unwrap();
    // (fired, manual escalations in minutes, now in minutes, steps due, next step in minutes)
    type Case = (&'static [StepRef], &'static [i64], i64, usize, Option<i64>);
    const FIRST: &[StepRef] = &[StepRef { round: 0, step: 0 }];
    let cases: [Case; 6] = [
        (&[], &[], 0, 1, Some(120)),
        (FIRST, &[], 1, 0, Some(120)),
        (FIRST, &[], 119, 0, Some(120)),
        (FIRST, &[], 130, 1, Some(240)),
        // The engine was down: both missed steps are due at once, none is skipped.
        (FIRST, &[], 300, 2, None),
        // Escalated by hand at 10: the team lead is due now, the manager two hours later.
        (FIRST, &[10], 10, 1, Some(130)),
    ];
    for (fired, manual, now, due, next) in cases {
        let manual: Vec<Timestamp> = manual.iter().map(|m| at(*m)).collect();
        let out = escalate(p2, &cfg.schedules, &input(fired, &manual), at(now));
        assert_eq!(out.due.len(), due, "at +{now}m: {out:?}");
        assert_eq!(out.next_at, next.map(at), "at +{now}m");
    }
}

#[test]
fn a_repeating_ladder_runs_again_after_each_interval() {
    let p = EscalationPolicy {
        id: "night".into(),
        name: "night".into(),
        steps: vec![
            Step { delay: Duration::ZERO, targets: vec![Target::User("ann".into())] },
            Step { delay: Duration::from_mins(10), targets: vec![Target::User("bob".into())] },
        ],
        repeat: 2,
        repeat_every: Some(Duration::from_mins(30)),
        business_hours: None,
    };
    let got: Vec<(StepRef, i64)> = walk(&p, &[], None);
    let want =
        [(step(0, 0), 0), (step(0, 1), 10), (step(1, 0), 30), (step(1, 1), 40), (step(2, 0), 60), (step(2, 1), 70)];
    assert_eq!(got, want);
}

#[test]
fn a_business_hours_policy_waits_for_the_next_opening() {
    let cfg = OnCallConfig::default();
    let p3 = cfg.policy_for(Severity::P3).unwrap();
    let saturday = EscalationInput { triggered_at: ts("2026-11-21T03:00:00Z"), ..input(&[], &[]) };
    let out = escalate(p3, &cfg.schedules, &saturday, ts("2026-11-21T03:00:00Z"));
    assert!(out.due.is_empty());
    assert_eq!(out.next_at, Some(ts("2026-11-23T09:00:00Z")));
    let out = escalate(p3, &cfg.schedules, &saturday, ts("2026-11-23T09:00:00Z"));
    assert_eq!(out.due.len(), 1);
}

#[test]
fn schedule_targets_resolve_to_whoever_is_on_call_when_the_step_fires() {
    let mut cfg = OnCallConfig::default();
    cfg.schedules[0].overrides.push(Override {
        user: "cto".into(),
        start: at(20),
        end: at(40),
        layer: Some("secondary".into()),
    });
    let p0 = cfg.policy_for(Severity::P0).unwrap().clone();
    let out = escalate(&p0, &cfg.schedules, &input(&[], &[]), at(0));
    assert_eq!(
        out.due[0].targets,
        [
            Resolved::User { id: "oncall-primary".into(), via: Some("default/primary".into()) },
            Resolved::User { id: "oncall-secondary".into(), via: Some("default/secondary".into()) },
            Resolved::Channel { name: "#incident-critical".into() },
        ]
    );
    // At 30 min, during the override, the CTO step fires; below, the CTO is paged once per
    // step even when named twice (as the covering secondary and directly).
    let fired = [step(0, 0), step(0, 1)];
    let out = escalate(&p0, &cfg.schedules, &input(&fired, &[]), at(30));
    assert_eq!(out.due.len(), 1);
    assert_eq!(out.due[0].targets, [Resolved::User { id: "cto".into(), via: None }]);
    let both = vec![
        Target::Schedule { schedule: "default".into(), layer: Some("secondary".into()) },
        Target::User("cto".into()),
        Target::Schedule { schedule: "gone".into(), layer: None },
        Target::Policy("p1".into()),
    ];
    let r = sevwatch_core::oncall::escalate::resolve(&both, &cfg.schedules, at(30));
    assert_eq!(
        r,
        [
            Resolved::User { id: "cto".into(), via: Some("default/secondary".into()) },
            Resolved::Unfilled { target: "schedule:gone".into() },
            Resolved::StartPolicy { id: "p1".into() },
        ]
    );
}

#[test]
fn a_policy_without_steps_never_pages() {
    let cfg = OnCallConfig::default();
    let p4 = cfg.policy_for(Severity::P4).unwrap();
    let out = escalate(p4, &cfg.schedules, &input(&[], &[at(1)]), at(600));
    assert!(out.due.is_empty() && out.next_at.is_none());
}
