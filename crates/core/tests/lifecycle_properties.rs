//! Property tests of the incident state machine: any sequence of commands, accepted or refused,
//! keeps the lifecycle invariants, and replaying the accepted events rebuilds the same state.

use proptest::prelude::*;
use sevwatch_core::{decide, Command, Event, Incident, IncidentId, Policy, Severity, Status, Timestamp};

fn severity() -> impl Strategy<Value = Severity> {
    prop::sample::select(Severity::ALL.to_vec())
}

fn status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

fn text() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[a-z ]{0,12}")
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(Command::Acknowledge),
        ("(commander|tech-lead|scribe|ic|janitor)", "(alice|bob|)").prop_map(|(role, to)| Command::Assign { role, to }),
        (status(), text()).prop_map(|(status, note)| Command::SetStatus { status, note }),
        (severity(), text()).prop_map(|(severity, reason)| Command::ChangeSeverity { severity, reason }),
        "[a-z ]{0,8}".prop_map(|text| Command::AddNote { text }),
        "(resolution\\.root-cause-identified|resolution\\.fix-verified|triage\\.data-risk|nope)"
            .prop_map(|item| Command::Check { item }),
        "(resolution\\.root-cause-identified|nope)".prop_map(|item| Command::Uncheck { item }),
        (text(), any::<bool>()).prop_map(|(root_cause, force)| Command::Resolve { root_cause, force }),
        Just(Command::Close),
        ("(status-update|customer-progress| )", text(), "[a-z ]{0,8}", prop::collection::vec("(#ops|#ops|)", 0..3))
            .prop_map(|(template, subject, body, channels)| Command::PostUpdate { template, subject, body, channels }),
        text().prop_map(|reason| Command::Reopen { reason }),
        Just(Command::Declare { title: "again".into(), severity: Severity::P1, service: None, summary: None }),
    ]
}

fn check_invariants(inc: &Incident) -> Result<(), TestCaseError> {
    if let Some(ack) = inc.acknowledged_at {
        prop_assert!(ack >= inc.triggered_at);
        if let Some(res) = inc.resolved_at {
            prop_assert!(res >= ack, "resolved before acknowledged");
        }
    }
    if let Some(res) = inc.resolved_at {
        prop_assert!(res >= inc.triggered_at);
    }
    prop_assert_eq!(inc.status == Status::Resolved || inc.status == Status::Closed, inc.resolved_at.is_some());
    prop_assert_eq!(inc.status == Status::Closed, inc.closed_at.is_some());
    if let Some(closed) = inc.closed_at {
        prop_assert!(inc.resolved_at.is_some_and(|r| r <= closed), "closed without being resolved first");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_command_sequence_keeps_the_invariants(
        sev in severity(),
        steps in prop::collection::vec((command(), 0i64..600_000), 0..40),
    ) {
        let policy = Policy::default();
        let mut now = Timestamp::from_second(1_790_000_000).unwrap();
        let declare = Command::Declare { title: "checkout failing".into(), severity: sev, service: Some("api".into()), summary: None };
        let mut log: Vec<Event> = decide(&policy, None, &declare, "alice", now).unwrap();
        let mut inc = Incident::from_declared(IncidentId(1), &log[0]).unwrap();
        for (cmd, dt) in steps {
            now = now.checked_add(jiff::SignedDuration::from_millis(dt)).unwrap();
            let before = inc.clone();
            match decide(&policy, Some(&inc), &cmd, "bob", now) {
                Ok(events) => {
                    prop_assert!(!events.is_empty());
                    for e in &events {
                        inc.apply(e);
                    }
                    log.extend(events);
                }
                Err(_) => prop_assert_eq!(&inc, &before, "a refused command changed the state"),
            }
            check_invariants(&inc)?;
            prop_assert_eq!(inc.event_count, log.len() as i64);
        }
        let replayed = Incident::replay(IncidentId(1), &log).unwrap();
        prop_assert_eq!(replayed, inc);
        // The stored form round-trips too: events survive serialisation unchanged.
        let json = serde_json::to_string(&log).unwrap();
        let back: Vec<Event> = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, log);
    }
}
