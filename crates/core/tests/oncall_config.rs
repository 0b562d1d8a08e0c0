//! Validation of `[[users]]`, `[[schedules]]` and `[[escalation_policies]]`: every problem
//! reported at its key path, and defaults replaced by id.

use sevwatch_core::config::ConfigProblem;
use sevwatch_core::oncall::{parse, ContactMethod, OnCallConfig, Target};
use sevwatch_core::Severity;

fn run(text: &str) -> (OnCallConfig, Vec<ConfigProblem>) {
    let table: toml::Table = text.parse().expect("test TOML parses");
    let mut problems = Vec::new();
    let cfg = parse(&table, "", &mut problems);
    (cfg, problems)
}

const ANN: &str = r#"
[[users]]
id = "ann"
name = "Ann"
contacts = [{ email = "ann@example.com" }, { slack = "U024BE7LH" }]
"#;

#[test]
fn an_empty_file_gives_the_defaults_without_problems() {
    let (cfg, problems) = run("");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(cfg, OnCallConfig::default());
    for sev in Severity::ALL {
        assert!(cfg.policy_for(sev).is_some(), "{sev}");
    }
}

#[test]
fn a_complete_configuration_parses_and_replaces_defaults_by_id() {
    let text = format!(
        r#"{ANN}
[[users]]
id = "vp-engineering"
name = "Vic"
contacts = [{{ webhook = "https://pager.example.com/vic" }}]

[[schedules]]
id = "default"
name = "Platform"
time_zone = "UTC"
  [[schedules.layers]]
  name = "primary"
  users = ["ann", "vp-engineering"]
  rotation = "weekly"
  handoff = "10:00"
  start = "2026-01-05"
  [[schedules.layers]]
  name = "secondary"
  users = ["ann"]
  rotation = "3d"
  start = "2026-01-05"
  [[schedules.overrides]]
  user = "vp-engineering"
  start = "2026-03-06T18:00:00Z"
  end = "2026-03-07T18:00"
  layer = "primary"

[[escalation_policies]]
id = "p2"
name = "Quiet P2"
repeat = 1
repeat_every = "1h"
  [[escalation_policies.steps]]
  targets = ["schedule:default/primary"]
  [[escalation_policies.steps]]
  delay = "20m"
  targets = ["user:ann", "policy:p1"]
"#
    );
    let (cfg, problems) = run(&text);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(cfg.user("ann").unwrap().contacts.len(), 2);
    assert_eq!(cfg.user("vp-engineering").unwrap().name, "Vic", "the placeholder is replaced");
    assert!(matches!(cfg.user("vp-engineering").unwrap().contacts[0], ContactMethod::Webhook(_)));
    assert_eq!(cfg.users.iter().filter(|u| u.id == "vp-engineering").count(), 1);
    let s = cfg.schedule("default").unwrap();
    assert_eq!(s.name, "Platform");
    assert_eq!(s.layers[1].rotation.handoff.to_string(), "09:00:00", "hand-off defaults to 09:00");
    assert_eq!(s.overrides[0].end.to_string(), "2026-03-07T18:00:00Z", "a local time is read in the schedule's zone");
    let p2 = cfg.policy_for(Severity::P2).unwrap();
    assert_eq!((p2.name.as_str(), p2.repeat, p2.steps.len()), ("Quiet P2", 1, 2));
    assert_eq!(p2.steps[1].targets[1], Target::Policy("p1".into()));
    assert_eq!(cfg.policy_for(Severity::P0).unwrap().steps.len(), 4, "other defaults stay");
}

/// Each case: a fragment of TOML and the (path, message fragment) problems it must produce.
#[test]
fn every_rule_reports_its_problem_at_its_key_path() {
    let layer = |extra: &str| {
        format!(
            "[[schedules]]\nid = \"s\"\n[[schedules.layers]]\nname = \"primary\"\nusers = [\"oncall-primary\"]\nrotation = \"daily\"\nstart = \"2026-01-05\"\n{extra}"
        )
    };
    // (what is wrong, TOML, expected (path, message fragment) problems in order)
    type Case = (&'static str, String, Vec<(&'static str, &'static str)>);
    let cases: Vec<Case> = vec![
        (
            "bad contacts",
            "[[users]]\nid = \"ann\"\ncontacts = [{ email = \"ann\" }, { webhook = \"ftp://x\" }, { email = \"a@b.co\", slack = \"U024BE7LH\" }]".into(),
            vec![
                ("users[0].contacts[0].email", "not an email"),
                ("users[0].contacts[1].webhook", "http or https"),
                ("users[0].contacts[2]", "exactly one"),
            ],
        ),
        ("bad user id", "[[users]]\nid = \"Ann Smith\"".into(), vec![("users[0].id", "kebab-case")]),
        ("duplicate ids", format!("{ANN}{ANN}"), vec![("users[1].id", "duplicate id \"ann\"")]),
        (
            "unknown time zone",
            layer("").replace("id = \"s\"\n", "id = \"s\"\ntime_zone = \"Mars/Olympus\"\n"),
            vec![("schedules[0].time_zone", "unknown time zone")],
        ),
        (
            "zero-length rotation",
            layer("").replace("\"daily\"", "\"0h\""),
            vec![("schedules[0].layers[0].rotation", "zero length")],
        ),
        (
            "too short rotation",
            layer("").replace("\"daily\"", "\"30m\""),
            vec![("schedules[0].layers[0].rotation", "shorter than")],
        ),
        (
            "empty user list",
            layer("").replace("[\"oncall-primary\"]", "[]"),
            vec![("schedules[0].layers[0].users", "at least one user")],
        ),
        (
            "unknown rotation user",
            layer("").replace("[\"oncall-primary\"]", "[\"oncall-primary\", \"ghost\"]"),
            vec![("schedules[0].layers[0].users[1]", "unknown user \"ghost\"")],
        ),
        ("bad hand-off", layer("handoff = \"9am\""), vec![("schedules[0].layers[0].handoff", "time of day")]),
        ("end before start", layer("end = \"2026-01-01\""), vec![("schedules[0].layers[0].end", "after start")]),
        (
            "overlapping layers with the same name",
            layer("[[schedules.layers]]\nname = \"primary\"\nusers = [\"cto\"]\nrotation = \"weekly\"\nstart = \"2026-02-02\"\n"),
            vec![("schedules[0].layers[1].name", "overlaps schedules[0].layers[0]")],
        ),
        (
            "override ending before it starts, for an unknown user and layer",
            layer("[[schedules.overrides]]\nuser = \"ghost\"\nstart = \"2026-03-02T00:00:00Z\"\nend = \"2026-03-01T00:00:00Z\"\nlayer = \"tertiary\"\n"),
            vec![
                ("schedules[0].overrides[0].layer", "no layer named \"tertiary\""),
                ("schedules[0].overrides[0].end", "after start"),
            ],
        ),
        (
            "override for an unknown user",
            layer("[[schedules.overrides]]\nuser = \"ghost\"\nstart = \"2026-03-01T00:00:00Z\"\nend = \"2026-03-02T00:00:00Z\"\n"),
            vec![("schedules[0].overrides[0].user", "unknown user \"ghost\"")],
        ),
        ("schedule without layers", "[[schedules]]\nid = \"s\"".into(), vec![("schedules[0].layers", "at least one")]),
        (
            "unknown policy targets",
            "[[escalation_policies]]\nid = \"x\"\n[[escalation_policies.steps]]\ntargets = [\"user:ghost\", \"schedule:nope\", \"schedule:default/tertiary\", \"policy:nope\", \"pager:1\"]".into(),
            vec![
                ("escalation_policies[0].steps[0].targets[4]", "unknown target kind"),
                ("escalation_policies[0].steps[0].targets[0]", "unknown user \"ghost\""),
                ("escalation_policies[0].steps[0].targets[1]", "unknown schedule \"nope\""),
                ("escalation_policies[0].steps[0].targets[2]", "no layer \"tertiary\""),
                ("escalation_policies[0].steps[0].targets[3]", "unknown escalation policy \"nope\""),
            ],
        ),
        (
            "escalation loop",
            "[[escalation_policies]]\nid = \"a\"\n[[escalation_policies.steps]]\ntargets = [\"policy:b\"]\n[[escalation_policies]]\nid = \"b\"\n[[escalation_policies.steps]]\ntargets = [\"policy:p4\"]\n[[escalation_policies.steps]]\ndelay = \"5m\"\ntargets = [\"policy:a\"]".into(),
            vec![
                ("escalation_policies[0].steps[0].targets[0]", "escalation loop: a -> b -> a"),
                ("escalation_policies[1].steps[1].targets[0]", "escalation loop: b -> a -> b"),
            ],
        ),
        (
            "a policy that targets itself",
            "[[escalation_policies]]\nid = \"a\"\n[[escalation_policies.steps]]\ntargets = [\"policy:a\"]".into(),
            vec![("escalation_policies[0].steps[0].targets[0]", "escalation loop: a -> a")],
        ),
        (
            "steps out of order and a repeat without interval",
            "[[escalation_policies]]\nid = \"a\"\nrepeat = 2\n[[escalation_policies.steps]]\ndelay = \"10m\"\ntargets = [\"user:cto\"]\n[[escalation_policies.steps]]\ndelay = \"5m\"\ntargets = [\"user:ceo\"]".into(),
            vec![
                ("escalation_policies[0].steps[1].delay", "in order of delay"),
                ("escalation_policies[0].repeat_every", "required"),
            ],
        ),
        (
            "repeat interval inside the ladder",
            "[[escalation_policies]]\nid = \"a\"\nrepeat = 1\nrepeat_every = \"10m\"\n[[escalation_policies.steps]]\ndelay = \"10m\"\ntargets = [\"user:cto\"]".into(),
            vec![("escalation_policies[0].repeat_every", "longer than the last step's delay")],
        ),
        (
            "a step without targets",
            "[[escalation_policies]]\nid = \"a\"\n[[escalation_policies.steps]]\ndelay = \"1m\"".into(),
            vec![("escalation_policies[0].steps[0].targets", "at least one target")],
        ),
        (
            "replacing a default schedule without a layer a default policy needs",
            "[[schedules]]\nid = \"default\"\n[[schedules.layers]]\nname = \"primary\"\nusers = [\"oncall-primary\"]\nrotation = \"weekly\"\nstart = \"2026-01-05\"".into(),
            vec![("escalation_policies(default p1).steps[1].targets[0]", "no layer \"secondary\"")],
        ),
        ("unknown keys", "[[users]]\nid = \"ann\"\nphone = \"555\"".into(), vec![("users[0].phone", "unknown key")]),
        ("not an array of tables", "users = \"ann\"".into(), vec![("users", "array of tables")]),
    ];
    for (name, text, want) in cases {
        let (_, problems) = run(&text);
        let got: Vec<(String, String)> = problems.iter().map(|p| (p.path.clone(), p.message.clone())).collect();
        assert_eq!(got.len(), want.len(), "{name}: {got:#?}");
        for ((path, msg), (wpath, wmsg)) in got.iter().zip(&want) {
            assert_eq!(path, wpath, "{name}: {got:#?}");
            assert!(msg.contains(wmsg), "{name}: {msg:?} should mention {wmsg:?}");
        }
    }
}

#[test]
fn key_paths_start_with_the_given_prefix() {
    let table: toml::Table = "[[users]]\nid = \"Bad\"".parse().unwrap();
    let mut problems = Vec::new();
    parse(&table, "oncall", &mut problems);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "oncall.users[0].id");
}

/// Blank names used to be accepted, and blank references came out as `unknown user ""`; now
/// each is refused where it is written, with the same message as in every other section.
#[test]
fn blank_strings_are_refused_at_their_key_path() {
    let (_, problems) = run(r#"
[[users]]
id = "ann"
name = ""
contacts = [{ slack = " " }]
[[schedules]]
id = "s"
  [[schedules.layers]]
  name = "primary"
  users = ["ann", ""]
  rotation = "daily"
  start = "2026-01-05"
  [[schedules.overrides]]
  user = ""
  start = "2026-03-01T00:00:00Z"
  end = "2026-03-02T00:00:00Z"
  layer = ""
[[escalation_policies]]
id = "x"
  [[escalation_policies.steps]]
  targets = ["user:ann", ""]
"#);
    let got: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "users[0].name: must not be empty",
            "users[0].contacts[0].slack: must not be empty",
            "schedules[0].layers[0].users[1]: must not be empty",
            "schedules[0].overrides[0].user: must not be empty",
            "schedules[0].overrides[0].layer: must not be empty",
            "escalation_policies[0].steps[0].targets[1]: must not be empty",
        ]
    );
}
