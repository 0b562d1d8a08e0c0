//! Pins how the seeds' scenarios, outcome branches and timed options parse: what a run of
//! each scenario walks, which alternatives wait for which step, and when each option is due.

mod common;

use sevwatch_runbook::{parse, Branch, Outcome, Runbook, Section, Step};

fn seed(name: &str) -> Option<Runbook> {
    let text = common::read_shared(&format!("seeds/{name}"))?;
    Some(parse(&text))
}

/// The first line of each command a run that chooses `scenario` walks.
fn walk<'a>(s: &'a Section, scenario: Option<&str>) -> Vec<&'a str> {
    let steps = s.steps_for(scenario).expect("a scenario of this section");
    steps.iter().map(|r| r.step.command.lines().next().unwrap_or("")).collect()
}

#[test]
fn seed_002_high_error_rate_has_four_scenarios_and_a_run_walks_one() {
    let Some(rb) = seed("002_10fec5055860d3f4.txt") else {
        return;
    };
    let s = rb.sections.iter().find(|s| s.title == "Incident: HighErrorRate").expect("HighErrorRate");
    let scenarios: Vec<(&str, &str)> = s.scenarios().iter().map(|c| (c.name.as_str(), c.trigger.as_str())).collect();
    assert_eq!(
        scenarios,
        vec![
            ("A", "LLM API Errors (rate limits, timeouts)"),
            ("B", "Network Errors"),
            ("C", "Resource Exhaustion"),
            ("D", "Validation Errors (AOP failures)"),
        ]
    );
    let common = [
        "curl -s http://localhost:9090/api/v1/query?query=genesis_errors_total | jq",
        "tail -n 100 /home/genesis/genesis-rebuild/logs/genesis.log | grep ERROR",
    ];
    let verify = "curl -s http://localhost:9090/api/v1/query?query=rate(genesis_errors_total[5m]) | jq";
    let own: [&[&str]; 4] = [
        &[
            "curl -s http://localhost:9090/api/v1/query?query=genesis_llm_errors_total",
            "cat > /home/genesis/genesis-rebuild/config/llm_fallback.yaml <<EOF",
            "systemctl restart genesis-orchestration",
        ],
        &[
            "ping -c 5 api.openai.com",
            "curl -I https://api.anthropic.com",
            "nslookup api.openai.com",
            "curl -s http://localhost:8000/health | jq .circuit_breaker",
        ],
        &[
            "htop",
            "free -h",
            "df -h",
            "ps aux --sort=-%mem | head -10",
            "ps aux --sort=-%cpu | head -10",
            "systemctl restart genesis-orchestration",
        ],
        &[
            "grep \"AOP\" /home/genesis/genesis-rebuild/logs/genesis.log | tail -50",
            "cat > /home/genesis/genesis-rebuild/config/aop_relaxed.yaml <<EOF",
            "systemctl restart genesis-orchestration",
        ],
    ];
    for (name, steps) in ["A", "B", "C", "D"].iter().zip(own) {
        let want: Vec<&str> = common.iter().copied().chain(steps.iter().copied()).chain([verify]).collect();
        assert_eq!(walk(s, Some(name)), want, "scenario {name}");
    }
    assert_eq!(walk(s, Some("scenario b")).len(), 7, "chosen by its title too");
    assert_eq!(walk(s, None), [common[0], common[1], verify], "no scenario: the common steps only");
    assert!(s.steps_for(Some("E")).is_none());
    // The timed options are offered, not walked: a restart from 2 minutes, a rollback after 30.
    let timed: Vec<(&str, Option<String>, Vec<&str>)> = s
        .timed_options()
        .map(|o| {
            let steps = s.option_steps(o).iter().map(|r| r.step.command.as_str()).collect();
            (o.label.as_str(), o.after.map(|d| d.to_string()), steps)
        })
        .collect();
    assert_eq!(
        timed,
        vec![
            ("Immediate", Some("0s".into()), vec![]),
            ("Short-term", Some("2m".into()), vec!["systemctl restart genesis-orchestration"]),
            ("Medium-term", Some("10m".into()), vec![]),
            ("Rollback", Some("30m".into()), vec!["./scripts/rollback_deployment.sh"]),
        ]
    );
}

#[test]
fn seed_002_service_down_rolls_back_only_if_the_restart_fails() {
    let Some(rb) = seed("002_10fec5055860d3f4.txt") else {
        return;
    };
    let s = rb.sections.iter().find(|s| s.title == "Incident: GenesisServiceDown").expect("GenesisServiceDown");
    let restart = s.indexed_steps().find(|r| r.step.command == "systemctl restart genesis-orchestration");
    let restart = restart.expect("the restart step").index;
    let rollback: Vec<&str> = s.alternatives_after(restart).iter().map(|r| r.step.command.as_str()).collect();
    assert_eq!(
        rollback,
        [
            "cd /home/genesis/genesis-rebuild",
            "./scripts/rollback_deployment.sh",
            "systemctl status genesis-orchestration",
            "curl http://localhost:8000/health"
        ]
    );
    assert!(s.alternatives_after(restart).iter().all(|r| r.step.applies_after(restart, Outcome::Failure)));
    assert_eq!(s.steps().filter(|st| st.is_branch()).count(), 4, "step 3 onwards runs either way");
}

#[test]
fn seed_003_corruption_recovery_has_two_outcomes_as_branches() {
    let Some(rb) = seed("003_1a425641372e7a85.txt") else {
        return;
    };
    let s = rb.sections.iter().find(|s| s.title == "Supervisor Database Corruption").expect("corruption section");
    let recover = s.indexed_steps().find(|r| r.step.title.as_deref() == Some("Attempt recovery")).expect("recovery");
    let outcomes: Vec<(Option<Branch>, &str)> = s
        .alternatives_after(recover.index)
        .iter()
        .map(|r| (r.step.branch, r.step.command.lines().next().unwrap_or("")))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (
                Some(Branch { after: recover.index, when: Outcome::Success }),
                "sudo mv /var/lib/hal-o-swarm/supervisor.db.recovered \\"
            ),
            (
                Some(Branch { after: recover.index, when: Outcome::Failure }),
                "sudo cp /var/lib/hal-o-swarm/supervisor.db.backup \\"
            ),
        ]
    );
    let after: Vec<bool> = s.steps().skip(recover.index + 3).map(Step::is_branch).collect();
    assert_eq!(after, [false, false], "restart and verify run after either outcome");
    // "If restart fails, check configuration" waits for the restart, not for the log check
    // just before it.
    let crashed = &rb.sections[0];
    let validate = crashed.steps().find(|st| st.command.ends_with("--validate")).expect("validate step");
    let restart = crashed.step(validate.branch.expect("a branch").after).expect("the step it waits for");
    assert_eq!(restart.command, "sudo systemctl restart hal-supervisor");
}
