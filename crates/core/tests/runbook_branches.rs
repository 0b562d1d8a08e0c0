//! Branches in runbook runs ("if recovery succeeds: ..." / "if it fails: ..."): the outcome of
//! the step they wait for decides, the other alternative is skipped on the timeline, and no
//! sequence of commands ever starts both alternatives of one step.

use std::collections::BTreeMap;

use proptest::prelude::*;
use sevwatch_core::{
    decide, BranchOutcome, Command, Confirmation, DomainError, Incident, IncidentId, Policy, RunBranch, RunStep,
    Severity, StepRisk, StepStatus, Timestamp,
};

fn step(command: &str, branch: Option<(usize, BranchOutcome)>) -> RunStep {
    RunStep {
        title: None,
        command: command.into(),
        risk: StepRisk::ReadOnly,
        reason: "test".into(),
        phase: "response".into(),
        branch: branch.map(|(after, on)| RunBranch { after, on }),
    }
}

/// An incident with one run: 1 attempt recovery; 2 if it succeeds; 3 if it fails; 4 restart.
fn incident() -> Incident {
    let policy = Policy::default();
    let now = Timestamp::from_second(1_790_000_000).unwrap();
    let declare = Command::Declare { title: "db corrupt".into(), severity: Severity::P1, service: None, summary: None };
    let events = decide(&policy, None, &declare, "alice", now).unwrap();
    let mut inc = Incident::from_declared(IncidentId(1), &events[0]).unwrap();
    let steps = vec![
        step("recover", None),
        step("mv recovered db", Some((1, BranchOutcome::Success))),
        step("cp backup db", Some((1, BranchOutcome::Failure))),
        step("restart", None),
    ];
    let start = Command::StartRunbookRun {
        runbook: "db".into(),
        version: 1,
        section: "Corruption".into(),
        steps,
        vars: BTreeMap::new(),
        scenario: None,
    };
    exec(&mut inc, &start).unwrap();
    inc
}

fn exec(inc: &mut Incident, cmd: &Command) -> Result<(), DomainError> {
    let now = Timestamp::from_second(1_790_000_100).unwrap();
    for e in decide(&Policy::default(), Some(inc), cmd, "bob", now)? {
        inc.apply(&e);
    }
    Ok(())
}

fn start(n: usize) -> Command {
    Command::StartStep { run: 1, step: n, command: "x".into(), confirmation: Confirmation::default(), on_server: false }
}

fn finish(n: usize, exit_code: i32) -> Command {
    Command::FinishStep {
        run: 1,
        step: n,
        exit_code,
        duration_ms: 1,
        output: String::new(),
        truncated: false,
        cwd: None,
        exported: Vec::new(),
    }
}

fn statuses(inc: &Incident) -> Vec<StepStatus> {
    inc.runbook_runs[0].state.iter().map(|s| s.status).collect()
}

#[test]
fn a_failure_takes_the_failure_branch_and_skips_the_other() {
    let mut inc = incident();
    let err = exec(&mut inc, &start(3)).unwrap_err();
    assert!(err.to_string().contains("step 3 runs only if step 1 fails: run step 1 first"), "{err}");
    exec(&mut inc, &start(1)).unwrap();
    exec(&mut inc, &finish(1, 1)).unwrap();
    use StepStatus::*;
    assert_eq!(statuses(&inc), [Failed, Skipped, Pending, Pending]);
    assert_eq!(inc.runbook_runs[0].next_step(), Some(3), "the expected failure is an outcome, not a retry");
    let err = exec(&mut inc, &start(1)).unwrap_err();
    assert!(err.to_string().contains("already chose"), "{err}");
    assert!(exec(&mut inc, &start(2)).is_err(), "the branch not taken stays skipped");
    exec(&mut inc, &start(3)).unwrap();
    exec(&mut inc, &finish(3, 0)).unwrap();
    assert_eq!(inc.runbook_runs[0].next_step(), Some(4));
}

#[test]
fn a_success_takes_the_success_branch_and_skipping_the_step_skips_both() {
    let mut inc = incident();
    exec(&mut inc, &start(1)).unwrap();
    exec(&mut inc, &finish(1, 0)).unwrap();
    use StepStatus::*;
    assert_eq!(statuses(&inc), [Succeeded, Pending, Skipped, Pending]);
    let err = exec(&mut inc, &start(3)).unwrap_err();
    assert!(err.to_string().contains("already skipped"), "{err}");

    let mut inc = incident();
    exec(&mut inc, &Command::SkipStep { run: 1, step: 1, reason: None }).unwrap();
    assert_eq!(statuses(&inc), [Skipped, Skipped, Skipped, Pending]);
    assert_eq!(inc.runbook_runs[0].next_step(), Some(4));
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (1usize..=4).prop_map(start),
        (1usize..=4, prop_oneof![Just(0), Just(1), Just(124)]).prop_map(|(n, c)| finish(n, c)),
        (1usize..=4).prop_map(|step| Command::SkipStep { run: 1, step, reason: None }),
        (1usize..=4).prop_map(|step| Command::InterruptStep { run: 1, step }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn no_sequence_of_commands_runs_both_alternatives(cmds in prop::collection::vec(command(), 0..24)) {
        let mut inc = incident();
        for c in &cmds {
            let _ = exec(&mut inc, c);
            let s = &inc.runbook_runs[0].state;
            prop_assert!(s[1].attempts == 0 || s[2].attempts == 0, "both branches started: {:?}", s);
        }
    }
}
