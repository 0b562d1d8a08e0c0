//! Strings across every section of `sevwatch.toml`: a blank one is refused wherever a key
//! asks for a string, at its full key path, and names and paths are one line.

use sevwatch_core::{Config, Severity};

/// Only `[alerts]` used to refuse blank strings; the other sections took `name = ""` and
/// `workdir = "  "` as values. Every section now reads strings through the one checker.
#[test]
fn blank_strings_are_refused_in_every_section_with_their_key_path() {
    let problems = Config::from_toml_str(
        r#"
[server]
data_dir = ""
[runbooks]
workdir = "  "
[runbooks.env]
REGION = ""
[severity.P1]
name = ""
description = "\n"
page = ""
[alerts]
[[alerts.routes]]
team = ""
[[users]]
id = "ann"
name = ""
[[schedules]]
id = "s"
name = " "
  [[schedules.layers]]
  name = ""
  users = ["ann"]
  rotation = "daily"
  start = "2026-01-05"
[[escalation_policies]]
id = "x"
name = ""
  [[escalation_policies.steps]]
  targets = ["user:ann"]
"#,
    )
    .unwrap_err();
    let mut paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "alerts.routes[0].team",
            "escalation_policies[0].name",
            "runbooks.env.REGION",
            "runbooks.workdir",
            "schedules[0].layers[0].name",
            "schedules[0].name",
            "server.data_dir",
            "severity.P1.description",
            "severity.P1.name",
            "severity.P1.page",
            "users[0].name",
        ],
        "{problems:#?}"
    );
    assert!(problems.iter().all(|p| p.message == "must not be empty"), "{problems:#?}");
}

#[test]
fn names_and_paths_are_one_line_but_descriptions_may_span_several() {
    let cfg = Config::from_toml_str("[severity.P1]\ndescription = \"\"\"\nBig.\nVery big.\n\"\"\"\n").unwrap();
    assert_eq!(cfg.policy.level(Severity::P1).description, "Big.\nVery big.\n");
    let problems = Config::from_toml_str("[server]\ndata_dir = \"\"\"\n/srv/sevwatch\n\"\"\"\n").unwrap_err();
    assert_eq!(problems[0].to_string(), "server.data_dir: must be one line");
}
