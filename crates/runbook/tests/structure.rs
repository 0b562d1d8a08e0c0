//! Pinned forms of the parse side: captured output kept as the step before's expected output,
//! scenarios from headings with label hints, branches from lead-ins and `Otherwise`, timed
//! options from an "after N min" label, alert names from `alertname=` matchers, and
//! severities through the configured aliases.

use std::collections::BTreeMap;

use sevwatch_runbook::{parse, parse_with_options, Branch, Duration, Outcome, ParseOptions, Severity};

#[test]
fn output_is_kept_as_the_expected_output_of_the_step_before() {
    let md = "# R\n\n## Diagnosis\n\nCheck the pods:\n\n```bash\nkubectl get pods -n web\n```\n\n\
              The output should look like:\n\n```\nNAME    READY   STATUS\nweb-1   0/1     CrashLoopBackOff\n```\n\n\
              ```console\n$ ceph status\n  cluster:\n    health: HEALTH_WARN\n$ ceph osd tree\n```\n";
    let rb = parse(md);
    let steps: Vec<_> = rb.sections[0].steps().collect();
    let commands: Vec<&str> = steps.iter().map(|s| s.command.as_str()).collect();
    assert_eq!(commands, ["kubectl get pods -n web", "ceph status", "ceph osd tree"]);
    assert_eq!(steps[0].expected_output.as_deref(), Some("NAME    READY   STATUS\nweb-1   0/1     CrashLoopBackOff"));
    assert_eq!(steps[1].expected_output.as_deref(), Some("  cluster:\n    health: HEALTH_WARN"));
    assert_eq!(steps[2].expected_output, None);
}

#[test]
fn log_lines_prompts_and_queries_are_not_steps() {
    let md = "# R\n\n## Response\n\n```bash\nsystemctl restart app\n```\n\n\
              ```sh\nMar 20 13:17:56 host app[1]: started\nI0208 15:21:03.769731  1 main.go:22] ready\n```\n\n\
              ```sh\nsum by (node) (rate(errors_total{job=\"app\"}[5m])) > 0\n```\n\n\
              ```\npostgres=# SELECT 1;\n ?column?\n----------\n        1\n```\n";
    let rb = parse(md);
    let steps: Vec<_> = rb.sections[0].steps().collect();
    assert_eq!(steps.len(), 1, "{steps:#?}");
    assert_eq!(
        steps[0].expected_output.as_deref(),
        Some("Mar 20 13:17:56 host app[1]: started\nI0208 15:21:03.769731  1 main.go:22] ready")
    );
}

#[test]
fn heading_scenarios_carry_their_label_hints_and_sub_headings() {
    let md = "# Pod crashing\n\n## Diagnosis\n\n```bash\nkubectl describe pod <pod>\n```\n\n\
              ## Scenario 1: Out of memory\n\nFires with `reason=\"OOMKilled\"`.\n\n### Steps\n\n\
              ```bash\nkubectl set resources deploy/web --limits=memory=1Gi\n```\n\n\
              ## Scenario 2: Bad config\n\nThe pod exits at start.\n\n```bash\nkubectl rollout undo deploy/web\n```\n";
    let rb = parse(md);
    let s = &rb.sections[0];
    let names: Vec<(&str, &str)> = s.scenarios().iter().map(|c| (c.name.as_str(), c.trigger.as_str())).collect();
    assert_eq!(names, [("1", "Out of memory"), ("2", "Bad config")]);
    let labels = BTreeMap::from([("reason".to_string(), "OOMKilled".to_string())]);
    assert_eq!(s.scenario_for_labels(&labels).map(|c| c.name.as_str()), Some("1"));
    let walk: Vec<&str> = s.steps_for(Some("1")).expect("scenario 1").iter().map(|r| r.step.command.as_str()).collect();
    assert_eq!(walk, ["kubectl describe pod <pod>", "kubectl set resources deploy/web --limits=memory=1Gi"]);
}

#[test]
fn lead_ins_and_otherwise_make_branches_and_judgements_do_not() {
    let md = "# R\n\n## Response\n\n```bash\nsystemctl restart app\n```\n\nIf that fails:\n\n\
              ```bash\njournalctl -u app -n 50\n```\n\nOtherwise:\n\n```bash\ncurl -s localhost/health\n```\n\n\
              If memory is above 90%, restart the worker:\n\n```bash\nsystemctl restart worker\n```\n";
    let rb = parse(md);
    let branches: Vec<Option<Branch>> = rb.sections[0].steps().map(|s| s.branch).collect();
    assert_eq!(
        branches,
        [
            None,
            Some(Branch { after: 0, when: Outcome::Failure }),
            Some(Branch { after: 0, when: Outcome::Success }),
            None
        ]
    );
}

#[test]
fn a_label_due_after_a_time_is_a_timed_option_with_its_steps() {
    let md = "# R\n\n## Response\n\n```bash\nsystemctl restart app\n```\n\n\
              **Escalate (if unresolved after 45 min)**\n\n```bash\n./scripts/page-dba.sh\n```\n";
    let rb = parse(md);
    let s = &rb.sections[0];
    let o = s.timed_options().next().expect("a timed option");
    assert_eq!((o.label.as_str(), o.after), ("Escalate", Some(Duration::from_mins(45))));
    let steps: Vec<&str> = s.option_steps(o).iter().map(|r| r.step.command.as_str()).collect();
    assert_eq!(steps, ["./scripts/page-dba.sh"]);
    let walked: Vec<&str> = s.steps_for(None).expect("walk").iter().map(|r| r.step.command.as_str()).collect();
    assert_eq!(walked, ["systemctl restart app"], "an option is offered, not walked");
}

#[test]
fn alertname_matchers_name_the_sections_alerts() {
    let md = "# Node down\n\n## Diagnosis\n\nThe alert looks like:\n\n```text\n - alertname = KubeNodeNotReady\n - node = n1\n```\n\n\
              ```bash\ncurl -s 'http://am/api/v2/alerts?filter=alertname=\"KubeNodeUnreachable\"'\n```\n";
    let rb = parse(md);
    assert_eq!(rb.sections[0].alerts, ["KubeNodeNotReady", "KubeNodeUnreachable"]);
}

#[test]
fn severities_resolve_through_the_configured_aliases() {
    let md = "# R\n\n## Queue backlog\n\n**Severity:** urgent\n\n```bash\nkubectl get pods\n```\n";
    assert_eq!(parse(md).sections[0].severity, None, "not a default alias");
    let mut options = ParseOptions::default();
    options.aliases.insert("urgent".into(), Severity::P1);
    assert_eq!(parse_with_options(md, &options).sections[0].severity, Some(Severity::P1));
    let policy = sevwatch_core::Policy::default();
    let heading = "# R\n\n## Disk full (warning)\n\n```bash\ndf -h\n```\n";
    assert_eq!(
        parse_with_options(heading, &ParseOptions::from_policy(&policy)).sections[0].severity,
        Some(Severity::P2)
    );
}
