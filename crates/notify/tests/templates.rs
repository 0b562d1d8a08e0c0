//! The communication templates end to end: every default renders for a sample incident, an
//! override directory replaces one, and broken templates fail loudly with file, line and field.

use std::collections::BTreeMap;

use sevwatch_core::{decide, Command, Incident, IncidentId, Policy, Severity, Status, Timestamp};
use sevwatch_notify::{context, TemplateContext, TemplateErrorKind, Templates};

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamps are valid")
}

fn run(p: &Policy, inc: &mut Incident, cmd: Command, at: &str) {
    for e in decide(p, Some(inc), &cmd, "alice", ts(at)).expect("the command is legal") {
        inc.apply(&e);
    }
}

/// A P1 with a commander and a tech lead, investigating, 65 minutes in.
fn sample() -> (Policy, Incident) {
    let p = Policy::default();
    let declare = Command::Declare {
        title: "API latency 10x".into(),
        severity: Severity::P1,
        service: Some("api".into()),
        summary: Some("p99 latency at 2s since 10:00".into()),
    };
    let ev = decide(&p, None, &declare, "alice", ts("2026-11-23T10:00:00Z")).expect("declare");
    let mut inc = Incident::from_declared(IncidentId(42), &ev[0]).expect("declared");
    run(&p, &mut inc, Command::Assign { role: "commander".into(), to: "alice".into() }, "2026-11-23T10:01:00Z");
    run(&p, &mut inc, Command::Assign { role: "tech-lead".into(), to: "bob".into() }, "2026-11-23T10:02:00Z");
    run(&p, &mut inc, Command::SetStatus { status: Status::Investigating, note: None }, "2026-11-23T10:50:00Z");
    (p, inc)
}

fn extra(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn full_context() -> TemplateContext {
    let (p, inc) = sample();
    context(
        &inc,
        &p,
        ts("2026-11-23T11:05:00Z"),
        &extra(&[
            ("impact", "Checkout is slow for every customer"),
            ("actions", "rolled back 3.4.1\nscaled the API to 12 replicas"),
            ("next_steps", "watch p99 for 30 minutes"),
            ("reason", "the response target was missed"),
            ("requested_action", "approve a failover to the standby region"),
            ("organisation", "The Example Team"),
        ]),
    )
}

#[test]
fn every_default_template_renders_for_a_sample_incident() {
    let t = Templates::defaults();
    let ctx = full_context();
    for name in [
        "incident-declared",
        "status-update",
        "resolved",
        "escalation-notice",
        "customer-initial",
        "customer-progress",
        "customer-resolution",
        "postmortem-reminder",
        "update-reminder",
    ] {
        let r = t.render(name, &ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
        let subject = r.subject.unwrap_or_else(|| panic!("{name} has a subject"));
        assert!(!subject.is_empty(), "{name}");
        assert!(!r.body.contains("{{") && !r.body.contains("{%"), "{name} left template syntax:\n{}", r.body);
        assert!(!r.body.contains("\n\n\n"), "{name} leaves runs of blank lines:\n{}", r.body);
        println!("--- {name}\nSubject: {subject}\n\n{}", r.body);
    }
}

#[test]
fn the_declaration_names_the_commander_channel_and_next_update() {
    let r = Templates::defaults().render("incident-declared", &full_context()).expect("renders");
    assert_eq!(r.subject.as_deref(), Some("[P1] INC-42 declared: API latency 10x"));
    assert!(r.body.contains("Commander:  alice"), "{}", r.body);
    assert!(r.body.contains("#incident-inc-42"), "{}", r.body);
    assert!(r.body.contains("Checkout is slow for every customer"), "{}", r.body);
    // The status change at 10:50 restarted the P1 cadence of 30 minutes.
    assert!(r.body.contains("by 11:20 UTC"), "{}", r.body);
}

#[test]
fn the_status_update_lists_actions_and_the_duration() {
    let r = Templates::defaults().render("status-update", &full_context()).expect("renders");
    assert!(r.body.contains("investigating after 1h 05m"), "{}", r.body);
    assert!(r.body.contains("  * rolled back 3.4.1\n  * scaled the API to 12 replicas"), "{}", r.body);
    assert!(r.body.contains("  * watch p99 for 30 minutes"), "{}", r.body);
}

#[test]
fn optional_fields_that_nobody_supplied_are_left_out_not_printed_empty() {
    let (p, inc) = sample();
    let ctx = context(&inc, &p, ts("2026-11-23T11:05:00Z"), &BTreeMap::new());
    let r = Templates::defaults().render("incident-declared", &ctx).expect("renders without extras");
    assert!(!r.body.contains("Who is affected"), "{}", r.body);
    let r = Templates::defaults().render("customer-initial", &ctx).expect("renders without extras");
    assert!(r.body.contains("The operations team"), "{}", r.body);
}

#[test]
fn an_escalation_without_a_reason_is_refused_rather_than_sent_half_written() {
    let (p, inc) = sample();
    let ctx = context(&inc, &p, ts("2026-11-23T11:05:00Z"), &BTreeMap::new());
    let e = Templates::defaults().render("escalation-notice", &ctx).expect_err("reason is required");
    assert_eq!(e.kind, TemplateErrorKind::Undefined);
    assert_eq!(e.field.as_deref(), Some("reason"));
    assert_eq!(e.file.as_deref(), Some("builtin:escalation-notice.j2"));
    assert_eq!(e.line, Some(5));
}

#[test]
fn the_resolution_notice_carries_root_cause_and_postmortem_deadline() {
    let (p, mut inc) = sample();
    run(
        &p,
        &mut inc,
        Command::Resolve { root_cause: Some("a bad deploy".into()), force: true },
        "2026-11-23T11:30:00Z",
    );
    let ctx = context(&inc, &p, ts("2026-11-23T12:00:00Z"), &BTreeMap::new());
    let r = Templates::defaults().render("resolved", &ctx).expect("renders");
    assert_eq!(r.subject.as_deref(), Some("[P1] INC-42 resolved: API latency 10x"));
    assert!(r.body.contains("resolved at 2026-11-23 11:30 UTC, 1h 30m after"), "{}", r.body);
    assert!(r.body.contains("Root cause: a bad deploy"), "{}", r.body);
    assert!(r.body.contains("post-mortem is due by 2026-11-30 11:30 UTC"), "{}", r.body);
    assert!(r.body.contains("Thank you, alice, bob."), "{}", r.body);
    let r = Templates::defaults().render("postmortem-reminder", &ctx).expect("renders");
    assert_eq!(r.subject.as_deref(), Some("Post-mortem for INC-42 due 2026-11-30 11:30 UTC"));
    assert!(r.body.contains("must be written by 2026-11-30 11:30 UTC"), "{}", r.body);
}

#[test]
fn a_postmortem_reminder_for_a_p3_says_it_is_optional() {
    let (p, mut inc) = sample();
    run(&p, &mut inc, Command::ChangeSeverity { severity: Severity::P3, reason: None }, "2026-11-23T10:55:00Z");
    run(&p, &mut inc, Command::Resolve { root_cause: None, force: true }, "2026-11-23T11:30:00Z");
    let ctx = context(&inc, &p, ts("2026-11-23T12:00:00Z"), &BTreeMap::new());
    let r = Templates::defaults().render("postmortem-reminder", &ctx).expect("renders");
    assert!(r.body.contains("optional at P3"), "{}", r.body);
}

#[test]
fn an_override_directory_replaces_one_template_and_keeps_the_others() {
    let dir = sevwatch_testkit::temp_dir();
    std::fs::write(dir.path().join("status-update.txt"), "Subject: {{ id }} is {{ status }}\n\nOurs: {{ title }}\n")
        .expect("write");
    std::fs::write(dir.path().join("README.md"), "{{ not a template").expect("write");
    let t = Templates::load(Some(dir.path())).expect("loads");
    let ctx = full_context();
    let r = t.render("status-update", &ctx).expect("renders");
    assert_eq!(r.subject.as_deref(), Some("INC-42 is investigating"));
    assert_eq!(r.body, "Ours: API latency 10x");
    assert_eq!(t.file("status-update"), Some(dir.path().join("status-update.txt").display().to_string().as_str()));
    let default = t.render("incident-declared", &ctx).expect("the other defaults remain");
    assert_eq!(default, Templates::defaults().render("incident-declared", &ctx).expect("renders"));
}

#[test]
fn an_override_may_add_a_template_and_include_another() {
    let dir = sevwatch_testkit::temp_dir();
    std::fs::write(dir.path().join("sms.j2"), "{{ id }} {{ severity }}: {% include \"footer\" %}").expect("write");
    std::fs::write(dir.path().join("footer.j2"), "see {{ channel }}").expect("write");
    let t = Templates::load(Some(dir.path())).expect("loads");
    assert_eq!(t.render("sms", &full_context()).expect("renders").body, "INC-42 P1: see #incident-inc-42");
}

#[test]
fn an_undefined_field_names_file_line_and_field_and_produces_no_output() {
    let dir = sevwatch_testkit::temp_dir();
    let path = dir.path().join("resolved.j2");
    std::fs::write(&path, "Subject: {{ id }}\n\nfine so far\n{{ title }}\nbridge: {{ extra.bridge }}\n")
        .expect("write");
    let t = Templates::load(Some(dir.path())).expect("it parses, the problem is only at render time");
    let e = t.render("resolved", &full_context()).expect_err("extra.bridge was never supplied");
    assert_eq!(e.kind, TemplateErrorKind::Undefined);
    assert_eq!(e.file.as_deref(), Some(path.display().to_string().as_str()));
    assert_eq!(e.line, Some(5));
    assert_eq!(e.field.as_deref(), Some("extra.bridge"));
    let shown = e.to_string();
    assert!(shown.contains("resolved.j2:5") && shown.contains("extra.bridge"), "{shown}");
}

#[test]
fn a_misspelt_top_level_field_is_named() {
    let dir = sevwatch_testkit::temp_dir();
    std::fs::write(dir.path().join("status-update.j2"), "{{ id }}\n{% if impcat %}x{% endif %}\n").expect("write");
    let t = Templates::load(Some(dir.path())).expect("loads");
    let e = t.render("status-update", &full_context()).expect_err("impcat is not a field");
    assert_eq!((e.kind, e.line, e.field.as_deref()), (TemplateErrorKind::Undefined, Some(2), Some("impcat")));
}

#[test]
fn a_syntax_error_names_file_and_line_when_loading() {
    let dir = sevwatch_testkit::temp_dir();
    let path = dir.path().join("customer-initial.j2");
    std::fs::write(&path, "Hello\n\n{% if impact is defined %}\n{{ impact }\n{% endif %}\n").expect("write");
    let e = Templates::load(Some(dir.path())).expect_err("the override does not parse");
    assert_eq!(e.kind, TemplateErrorKind::Syntax);
    assert_eq!(e.file.as_deref(), Some(path.display().to_string().as_str()));
    assert_eq!(e.line, Some(4));
}

#[test]
fn the_same_name_with_two_extensions_is_refused() {
    let dir = sevwatch_testkit::temp_dir();
    std::fs::write(dir.path().join("resolved.j2"), "a").expect("write");
    std::fs::write(dir.path().join("resolved.txt"), "b").expect("write");
    let e = Templates::load(Some(dir.path())).expect_err("ambiguous");
    assert!(e.message.contains("defined twice"), "{e}");
}

#[test]
fn an_unknown_template_name_lists_the_known_ones() {
    let e = Templates::defaults().render("no-such", &full_context()).expect_err("unknown");
    assert_eq!(e.kind, TemplateErrorKind::Unknown);
    assert!(e.message.contains("status-update"), "{e}");
}

#[test]
fn text_is_not_html_escaped() {
    let (p, mut inc) = sample();
    inc.title = "p99 > 2s & <rising>".into();
    let ctx = context(&inc, &p, ts("2026-11-23T11:05:00Z"), &BTreeMap::new());
    let r = Templates::defaults().render("incident-declared", &ctx).expect("renders");
    assert!(r.subject.expect("subject").ends_with("p99 > 2s & <rising>"));
}
