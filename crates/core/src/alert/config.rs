//! The `[alerts]` table of `sevwatch.toml`: how severities are read, when incidents resolve by
//! themselves, what counts as flapping, the routing tree and the maintenance windows. [`parse`]
//! validates the whole table and reports every problem with its key path; anything left out
//! keeps its default.
//!
//! ```toml
//! [alerts]
//! severity_labels = ["severity", "priority", "level"]
//! default_severity = "P2"
//! auto_resolve_after = "10m"
//! max_silence = "7d"                   # longer silences, and catch-all ones, need an admin token
//! flap_changes = 4
//! flap_window = "10m"
//! group_by = ["alertname"]             # ["..."] groups by every label
//! [alerts.severity_values]             # added to critical=P0, high=P1, error=P1, warning=P2, info=P3, ...
//! page = "P0"
//!
//! [[alerts.routes]]
//! matchers = ['team="data"']
//! service = "database"
//! escalation_policy = "dba"
//! [[alerts.routes.routes]]
//! matchers = ['alertname=~"Postgres.*"']
//! severity = "P1"
//! continue = false
//!
//! [[alerts.maintenance]]
//! service = "database"
//! every = "weekly"
//! days = ["sat", "sun"]
//! at = "02:00"
//! duration = "2h"
//! timezone = "Europe/Berlin"
//! ```

use toml::Table;

use super::maintenance::parse_weekday;
use super::{
    in_maintenance, Alert, FlapRule, GroupBy, MaintenanceWindow, Matcher, Recurrence, Route, RouteMatch, SeverityMap,
    WindowSchedule,
};
use crate::config::check::{walk, Check};
use crate::config::ConfigProblem;
use crate::{Duration, Severity, Timestamp};

#[derive(Clone, Debug, PartialEq)]
pub struct AlertConfig {
    pub severity: SeverityMap,
    /// How long after its last alert resolves an incident resolves by itself.
    pub auto_resolve_after: Duration,
    pub flap: FlapRule,
    /// The root of the routing tree; its settings are the defaults every route inherits.
    pub route: Route,
    pub maintenance: Vec<MaintenanceWindow>,
    /// Longest silence a responder may create; longer ones (and catch-all ones) need an admin.
    pub max_silence: Duration,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            severity: SeverityMap::default(),
            auto_resolve_after: Duration::from_mins(10),
            flap: FlapRule::default(),
            route: Route { group_by: Some(GroupBy::Labels(vec!["alertname".into()])), ..Route::default() },
            maintenance: Vec::new(),
            max_silence: Duration::from_days(7),
        }
    }
}

impl AlertConfig {
    /// The alert's level on one route: the route's override, else the severity map.
    pub fn severity_for(&self, alert: &Alert, route: &RouteMatch) -> Severity {
        route.severity.unwrap_or_else(|| self.severity.severity_of(alert))
    }

    /// True when any configured window covers `service` at `now`.
    pub fn in_maintenance(&self, service: &str, now: Timestamp) -> bool {
        self.maintenance.iter().any(|w| in_maintenance(w, service, now))
    }
}

/// Nested routes deeper than this are almost certainly a mistake, and the limit keeps the
/// recursive walk bounded.
const MAX_ROUTE_DEPTH: usize = 16;

/// Validates the `[alerts]` table `t`, found at `path` (normally `"alerts"`), appending every
/// problem to `problems`. The result is usable even when problems were found: bad keys keep
/// their defaults.
pub fn parse(t: &Table, path: &str, problems: &mut Vec<ConfigProblem>) -> AlertConfig {
    walk(t, path, problems, read)
}

/// The `[alerts]` table as one part of a whole file's walk.
pub(crate) fn read(c: &Check<'_>) -> AlertConfig {
    let mut cfg = AlertConfig::default();
    c.known_keys(&[
        "severity_labels",
        "severity_values",
        "default_severity",
        "auto_resolve_after",
        "max_silence",
        "flap_changes",
        "flap_window",
        "group_by",
        "escalation_policy",
        "routes",
        "maintenance",
    ]);
    c.at_least_one("severity_labels", "label");
    if let Some(labels) = c.strings("severity_labels").filter(|l| !l.is_empty()) {
        cfg.severity.labels = labels;
    }
    if let Some(values) = c.table("severity_values") {
        for value in values.keys() {
            let level = values.parsed(value, |v| {
                v.parse::<Severity>().map_err(|()| format!("{v:?} is not a level (expected P0, P1, P2, P3 or P4)"))
            });
            if let Some(s) = level {
                cfg.severity.values.insert(value.trim().to_ascii_lowercase(), s);
            }
        }
    }
    if let Some(s) = c.parsed("default_severity", |s| level(&cfg.severity, s)) {
        cfg.severity.default = s;
    }
    if let Some(d) = c.positive_duration("auto_resolve_after") {
        cfg.auto_resolve_after = d;
    }
    if let Some(d) = c.positive_duration("max_silence") {
        cfg.max_silence = d;
    }
    if let Some(n) = c.integer("flap_changes", 2..=100) {
        cfg.flap.changes = u32::try_from(n).expect("bounded by the range above");
    }
    if let Some(d) = c.positive_duration("flap_window") {
        cfg.flap.window = d;
    }
    let severity = cfg.severity.clone();
    route_settings(c, &severity, &mut cfg.route, true);
    cfg.route.routes = routes(c, &severity, 1);
    cfg.maintenance = c.tables("maintenance").iter().filter_map(window).collect();
    cfg
}

/// `P1` or any value the severity map knows (`critical`, ...).
fn level(map: &SeverityMap, s: &str) -> Result<Severity, String> {
    map.lookup(s).ok_or_else(|| format!("unknown severity {s:?} (expected P0-P4 or a value from severity_values)"))
}

/// `group_by` and `escalation_policy`, which the root shares with every route.
fn route_settings(c: &Check<'_>, severity: &SeverityMap, r: &mut Route, is_root: bool) {
    if let Some(names) = c.strings("group_by") {
        r.group_by = Some(if names.iter().any(|n| n == "...") {
            if names.len() > 1 {
                c.report("group_by", "\"...\" means every label and must stand alone");
            }
            GroupBy::All
        } else {
            GroupBy::Labels(names)
        });
    }
    if let Some(p) = c.line("escalation_policy") {
        r.escalation_policy = Some(p);
    }
    if !is_root {
        r.service = c.line("service");
        r.team = c.line("team");
        r.severity = c.parsed("severity", |s| level(severity, s));
        r.continue_matching = c.boolean("continue").unwrap_or(false);
    }
}

fn routes(c: &Check<'_>, severity: &SeverityMap, depth: usize) -> Vec<Route> {
    let mut out = Vec::new();
    for rc in c.tables("routes") {
        if depth > MAX_ROUTE_DEPTH {
            rc.report_here(format!("routes nest deeper than {MAX_ROUTE_DEPTH} levels"));
            continue;
        }
        rc.known_keys(&[
            "matchers",
            "service",
            "team",
            "severity",
            "escalation_policy",
            "group_by",
            "continue",
            "routes",
        ]);
        let mut r = Route::default();
        let matchers = rc.parsed_strings("matchers", |m| m.parse::<Matcher>().map_err(|e| e.to_string()));
        r.matchers = matchers.unwrap_or_default();
        route_settings(&rc, severity, &mut r, false);
        r.routes = routes(&rc, severity, depth + 1);
        out.push(r);
    }
    out
}

fn window(c: &Check<'_>) -> Option<MaintenanceWindow> {
    c.known_keys(&["service", "name", "start", "end", "every", "at", "duration", "days", "timezone"]);
    c.required("service", "(a service name, or \"*\" for every service)");
    let service = c.line("service");
    let name = c.line("name");
    let one_off = c.has("start") || c.has("end");
    let recurring = ["every", "at", "duration", "days", "timezone"].iter().any(|k| c.has(k));
    let schedule = match (one_off, recurring) {
        (true, true) => {
            c.report_here("give either start and end, or every, at and duration, not both");
            None
        }
        (true, false) => once(c),
        (false, true) => recurrence(c).map(WindowSchedule::Recurring),
        (false, false) => {
            c.report_here("needs start and end, or every, at and duration");
            None
        }
    };
    Some(MaintenanceWindow { service: service?, name, schedule: schedule? })
}

fn once(c: &Check<'_>) -> Option<WindowSchedule> {
    let time = |s: &str| {
        s.parse::<Timestamp>().map_err(|_| format!("{s:?} is not an RFC 3339 time like 2026-05-01T22:00:00Z"))
    };
    let start = c.parsed("start", time);
    let end = c.parsed("end", time);
    for key in ["start", "end"] {
        c.required(key, "for a one-off window");
    }
    let (start, end) = (start?, end?);
    if end <= start {
        c.report("end", "must be after start");
        return None;
    }
    Some(WindowSchedule::Once { start, end })
}

fn recurrence(c: &Check<'_>) -> Option<Recurrence> {
    let weekly = c.word("every", &[("daily", false), ("weekly", true)]);
    let at = c.time_of_day("at");
    let duration = c.positive_duration("duration");
    let timezone = if c.has("timezone") { c.time_zone("timezone") } else { Some(jiff::tz::TimeZone::UTC) };
    let days = c.parsed_strings("days", |d| {
        parse_weekday(d).ok_or_else(|| format!("{d:?} is not a weekday (mon, tue, ... or monday, ...)"))
    });
    for key in ["every", "at", "duration"] {
        c.required(key, "for a recurring window");
    }
    let (weekly, duration) = (weekly?, duration?);
    if weekly && days.as_ref().map_or(!c.has("days"), Vec::is_empty) {
        c.report("days", "a weekly window needs at least one day");
    }
    if !weekly && c.has("days") {
        c.report("days", "only weekly windows have days");
    }
    let (every, period) = if weekly { ("weekly", Duration::from_days(7)) } else { ("daily", Duration::from_days(1)) };
    if duration > period {
        c.report("duration", format!("must not exceed the {every} period ({period})"));
        return None;
    }
    Some(Recurrence { days: days.unwrap_or_default(), at: at?, duration, timezone: timezone? })
}
