//! The `[alerts]` table: defaults, overrides, and every problem reported at its key path.

use sevwatch_core::alert::config::parse;
use sevwatch_core::alert::{AlertConfig, GroupBy, MaintenanceWindow, WindowSchedule};
use sevwatch_core::config::ConfigProblem;
use sevwatch_core::{Duration, Severity, Timestamp};

fn parse_str(text: &str) -> (AlertConfig, Vec<ConfigProblem>) {
    let root: toml::Table = text.parse().expect("test TOML is valid");
    let t = root.get("alerts").and_then(|v| v.as_table()).cloned().unwrap_or_default();
    let mut problems = Vec::new();
    let cfg = parse(&t, "alerts", &mut problems);
    (cfg, problems)
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn an_empty_table_gives_the_defaults() {
    let (cfg, problems) = parse_str("[alerts]\n");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(cfg, AlertConfig::default());
    assert_eq!(cfg.auto_resolve_after, Duration::from_mins(10));
    assert_eq!(cfg.flap.changes, 4);
    assert_eq!(cfg.flap.window, Duration::from_mins(10));
    assert_eq!(cfg.severity.default, Severity::P2);
    assert_eq!(cfg.severity.labels, ["severity", "priority", "level"]);
    assert_eq!(cfg.severity.lookup("critical"), Some(Severity::P0));
}

#[test]
fn every_setting_can_be_overridden() {
    let (cfg, problems) = parse_str(
        r#"
[alerts]
severity_labels = ["urgency"]
default_severity = "P3"
auto_resolve_after = "30m"
flap_changes = 6
flap_window = "1h"
group_by = ["alertname", "cluster"]
escalation_policy = "default"
[alerts.severity_values]
Page = "P0"

[[alerts.routes]]
matchers = ['team="data"', 'alertname!="Watchdog"']
service = "database"
team = "data"
escalation_policy = "dba"
group_by = ["..."]
continue = true
[[alerts.routes.routes]]
matchers = ['alertname=~"Postgres.*"']
severity = "page"

[[alerts.maintenance]]
service = "database"
name = "upgrade"
start = "2026-05-01T22:00:00Z"
end = "2026-05-02T01:00:00Z"

[[alerts.maintenance]]
service = "*"
every = "weekly"
days = ["sat", "Sunday"]
at = "02:00"
duration = "2h"
timezone = "Europe/Berlin"
"#,
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(cfg.severity.labels, ["urgency"]);
    assert_eq!(cfg.severity.default, Severity::P3);
    assert_eq!(cfg.severity.lookup("PAGE"), Some(Severity::P0));
    assert_eq!(cfg.auto_resolve_after, Duration::from_mins(30));
    assert_eq!((cfg.flap.changes, cfg.flap.window), (6, Duration::from_hours(1)));
    assert_eq!(cfg.route.group_by, Some(GroupBy::Labels(vec!["alertname".into(), "cluster".into()])));
    assert_eq!(cfg.route.escalation_policy.as_deref(), Some("default"));
    let db = &cfg.route.routes[0];
    assert_eq!(db.matchers.len(), 2);
    assert_eq!(db.service.as_deref(), Some("database"));
    assert_eq!(db.group_by, Some(GroupBy::All));
    assert!(db.continue_matching);
    assert_eq!(db.routes[0].severity, Some(Severity::P0));
    assert_eq!(cfg.maintenance.len(), 2);
    let MaintenanceWindow { schedule: WindowSchedule::Once { start, end }, .. } = &cfg.maintenance[0] else {
        panic!("first window is one-off")
    };
    assert_eq!((*start, *end), (ts("2026-05-01T22:00:00Z"), ts("2026-05-02T01:00:00Z")));
    let WindowSchedule::Recurring(r) = &cfg.maintenance[1].schedule else { panic!("second window recurs") };
    assert_eq!(r.days.len(), 2);
    assert_eq!(r.duration, Duration::from_hours(2));
}

#[test]
fn every_problem_is_reported_with_its_key_path() {
    let (_, problems) = parse_str(
        r#"
[alerts]
severity_labels = []
default_severity = "urgent"
auto_resolve_after = "soon"
flap_changes = 1
flap_window = 10
colour = "red"
group_by = ["...", "alertname"]
[alerts.severity_values]
page = "P9"

[[alerts.routes]]
matchers = ['service=~"("', 42]
severity = "P7"
continue = "yes"
servise = "typo"
[[alerts.routes.routes]]
matchers = "service=api"

[[alerts.maintenance]]
service = "db"
start = "tomorrow"
end = "2026-05-02T01:00:00Z"

[[alerts.maintenance]]
service = "db"
every = "monthly"
at = "25:00"
duration = "0s"
timezone = "Mars/Olympus"
days = ["caturday"]

[[alerts.maintenance]]
every = "daily"
at = "02:00"
duration = "2d"

[[alerts.maintenance]]
service = "db"
start = "2026-05-02T01:00:00Z"
end = "2026-05-01T01:00:00Z"

[[alerts.maintenance]]
service = "db"
every = "weekly"
at = "02:00"
duration = "1h"
start = "2026-05-02T01:00:00Z"
"#,
    );
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    for expected in [
        "alerts.severity_labels",
        "alerts.default_severity",
        "alerts.auto_resolve_after",
        "alerts.flap_changes",
        "alerts.flap_window",
        "alerts.colour",
        "alerts.group_by",
        "alerts.severity_values.page",
        "alerts.routes[0].matchers[0]",
        "alerts.routes[0].matchers[1]",
        "alerts.routes[0].severity",
        "alerts.routes[0].continue",
        "alerts.routes[0].servise",
        "alerts.routes[0].routes[0].matchers",
        "alerts.maintenance[0].start",
        "alerts.maintenance[1].every",
        "alerts.maintenance[1].at",
        "alerts.maintenance[1].duration",
        "alerts.maintenance[1].timezone",
        "alerts.maintenance[1].days[0]",
        "alerts.maintenance[2].service",
        "alerts.maintenance[2].duration",
        "alerts.maintenance[3].end",
        "alerts.maintenance[4]",
    ] {
        assert!(paths.contains(&expected), "missing {expected} in {problems:#?}");
    }
}

#[test]
fn bad_keys_keep_their_defaults_so_the_result_stays_usable() {
    let (cfg, problems) = parse_str("[alerts]\nauto_resolve_after = \"-1m\"\nflap_changes = 4000\n");
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(cfg.auto_resolve_after, Duration::from_mins(10));
    assert_eq!(cfg.flap.changes, 4);
}

#[test]
fn routes_nested_too_deep_are_refused() {
    let mut text = String::from("[alerts]\n");
    let mut header = String::from("alerts");
    for _ in 0..20 {
        header.push_str(".routes");
        text.push_str(&format!("[[{header}]]\nservice = \"x\"\n"));
    }
    let (_, problems) = parse_str(&text);
    assert!(problems.iter().any(|p| p.message.contains("deeper")), "{problems:?}");
}

#[test]
fn a_route_override_beats_the_severity_map_and_windows_apply_per_service() {
    let (cfg, problems) = parse_str(
        r#"
[alerts]
[[alerts.routes]]
matchers = ['service="db"']
severity = "P1"
[[alerts.maintenance]]
service = "db"
every = "daily"
at = "02:00"
duration = "1h"
timezone = "Europe/Berlin"
"#,
    );
    assert!(problems.is_empty(), "{problems:?}");
    let body =
        br#"{"alerts": [{"name": "A", "service": "db", "severity": "info"}, {"name": "B", "severity": "info"}]}"#;
    let n = sevwatch_core::alert::source::generic::parse(body).expect("valid");
    let severities: Vec<Severity> = n
        .alerts
        .iter()
        .map(|a| {
            let route = &cfg.route.routes_for(a)[0];
            cfg.severity_for(a, route)
        })
        .collect();
    assert_eq!(severities, [Severity::P1, Severity::P3]);
    // 02:30 in Berlin in summer is 00:30Z.
    assert!(cfg.in_maintenance("db", ts("2026-07-01T00:30:00Z")));
    assert!(!cfg.in_maintenance("api", ts("2026-07-01T00:30:00Z")));
    assert!(!cfg.in_maintenance("db", ts("2026-07-01T01:30:00Z")));
}
