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

use jiff::tz::TimeZone;
use toml::Table;

use super::maintenance::parse_weekday;
use super::toml_check::{join, Check};
use super::{
    in_maintenance, Alert, FlapRule, GroupBy, MaintenanceWindow, Matcher, Recurrence, Route, RouteMatch, SeverityMap,
    WindowSchedule,
};
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
    let mut c = Check { problems };
    let mut cfg = AlertConfig::default();
    c.only_keys(
        t,
        path,
        &[
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
        ],
    );
    if let Some(labels) = c.strings(t, path, "severity_labels") {
        if labels.is_empty() {
            c.err(join(path, "severity_labels"), "must name at least one label");
        } else {
            cfg.severity.labels = labels;
        }
    }
    match t.get("severity_values") {
        None => {}
        Some(toml::Value::Table(vt)) => {
            let vpath = join(path, "severity_values");
            for (value, level) in vt {
                match level.as_str().map(str::parse::<Severity>) {
                    Some(Ok(s)) => {
                        cfg.severity.values.insert(value.trim().to_ascii_lowercase(), s);
                    }
                    _ => c.err(join(&vpath, value), "expected one of \"P0\", \"P1\", \"P2\", \"P3\", \"P4\""),
                }
            }
        }
        Some(other) => c.err(join(path, "severity_values"), format!("expected a table, found {}", other.type_str())),
    }
    if let Some(s) = c.parsed(t, path, "default_severity", |s| level(&cfg.severity, s)) {
        cfg.severity.default = s;
    }
    if let Some(d) = c.duration(t, path, "auto_resolve_after") {
        cfg.auto_resolve_after = d;
    }
    if let Some(d) = c.duration(t, path, "max_silence") {
        cfg.max_silence = d;
    }
    if let Some(n) = c.integer(t, path, "flap_changes", 2..=100) {
        cfg.flap.changes = n as u32;
    }
    if let Some(d) = c.duration(t, path, "flap_window") {
        cfg.flap.window = d;
    }
    let severity = cfg.severity.clone();
    route_settings(&mut c, t, path, &severity, &mut cfg.route, true);
    cfg.route.routes = routes(&mut c, t, path, &severity, 1);
    for (wpath, wt) in c.tables(t, path, "maintenance") {
        if let Some(w) = window(&mut c, wt, &wpath) {
            cfg.maintenance.push(w);
        }
    }
    cfg
}

/// `P1` or any value the severity map knows (`critical`, ...).
fn level(map: &SeverityMap, s: &str) -> Result<Severity, String> {
    map.lookup(s).ok_or_else(|| format!("unknown severity {s:?} (expected P0-P4 or a value from severity_values)"))
}

/// `group_by` and `escalation_policy`, which the root shares with every route.
fn route_settings(c: &mut Check<'_>, t: &Table, path: &str, severity: &SeverityMap, r: &mut Route, is_root: bool) {
    if let Some(names) = c.strings(t, path, "group_by") {
        r.group_by = Some(if names.iter().any(|n| n == "...") {
            if names.len() > 1 {
                c.err(join(path, "group_by"), "\"...\" means every label and must stand alone");
            }
            GroupBy::All
        } else {
            GroupBy::Labels(names)
        });
    }
    if let Some(p) = c.string(t, path, "escalation_policy") {
        r.escalation_policy = Some(p);
    }
    if !is_root {
        r.service = c.string(t, path, "service");
        r.team = c.string(t, path, "team");
        r.severity = c.parsed(t, path, "severity", |s| level(severity, s));
        r.continue_matching = c.boolean(t, path, "continue").unwrap_or(false);
    }
}

fn routes(c: &mut Check<'_>, t: &Table, path: &str, severity: &SeverityMap, depth: usize) -> Vec<Route> {
    let mut out = Vec::new();
    for (rpath, rt) in c.tables(t, path, "routes") {
        if depth > MAX_ROUTE_DEPTH {
            c.err(rpath, format!("routes nest deeper than {MAX_ROUTE_DEPTH} levels"));
            continue;
        }
        c.only_keys(
            rt,
            &rpath,
            &["matchers", "service", "team", "severity", "escalation_policy", "group_by", "continue", "routes"],
        );
        let mut r = Route::default();
        let mpath = join(&rpath, "matchers");
        for (i, text) in c.strings(rt, &rpath, "matchers").unwrap_or_default().into_iter().enumerate() {
            match text.parse::<Matcher>() {
                Ok(m) => r.matchers.push(m),
                Err(e) => c.err(format!("{mpath}[{i}]"), e.to_string()),
            }
        }
        route_settings(c, rt, &rpath, severity, &mut r, false);
        r.routes = routes(c, rt, &rpath, severity, depth + 1);
        out.push(r);
    }
    out
}

fn window(c: &mut Check<'_>, t: &Table, path: &str) -> Option<MaintenanceWindow> {
    c.only_keys(t, path, &["service", "name", "start", "end", "every", "at", "duration", "days", "timezone"]);
    let service = c.string(t, path, "service");
    if service.is_none() && !t.contains_key("service") {
        c.err(join(path, "service"), "is required (a service name, or \"*\" for every service)");
    }
    let name = c.string(t, path, "name");
    let one_off = t.contains_key("start") || t.contains_key("end");
    let recurring = ["every", "at", "duration", "days", "timezone"].iter().any(|k| t.contains_key(*k));
    let schedule = match (one_off, recurring) {
        (true, true) => {
            c.err(path.to_string(), "give either start and end, or every, at and duration, not both");
            None
        }
        (true, false) => once(c, t, path),
        (false, true) => recurrence(c, t, path).map(WindowSchedule::Recurring),
        (false, false) => {
            c.err(path.to_string(), "needs start and end, or every, at and duration");
            None
        }
    };
    Some(MaintenanceWindow { service: service?, name, schedule: schedule? })
}

fn once(c: &mut Check<'_>, t: &Table, path: &str) -> Option<WindowSchedule> {
    let time = |s: &str| {
        s.parse::<Timestamp>().map_err(|_| format!("{s:?} is not an RFC 3339 time like 2026-05-01T22:00:00Z"))
    };
    let start = c.parsed(t, path, "start", time);
    let end = c.parsed(t, path, "end", time);
    for key in ["start", "end"] {
        if !t.contains_key(key) {
            c.err(join(path, key), "is required for a one-off window");
        }
    }
    let (start, end) = (start?, end?);
    if end <= start {
        c.err(join(path, "end"), "must be after start");
        return None;
    }
    Some(WindowSchedule::Once { start, end })
}

fn recurrence(c: &mut Check<'_>, t: &Table, path: &str) -> Option<Recurrence> {
    let every = c.parsed(t, path, "every", |s| match s {
        "daily" | "weekly" => Ok(s.to_string()),
        _ => Err(format!("{s:?} is not a recurrence (expected \"daily\" or \"weekly\")")),
    });
    let at = c.parsed(t, path, "at", |s| {
        s.parse::<jiff::civil::Time>().map_err(|_| format!("{s:?} is not a time of day like \"02:00\""))
    });
    let duration = c.duration(t, path, "duration");
    let timezone = match t.get("timezone") {
        None => Some(TimeZone::UTC),
        Some(_) => c.parsed(t, path, "timezone", |s| {
            TimeZone::get(s).map_err(|_| format!("{s:?} is not an IANA time zone like \"Europe/Berlin\""))
        }),
    };
    let mut days = Vec::new();
    let dpath = join(path, "days");
    for (i, d) in c.strings(t, path, "days").unwrap_or_default().into_iter().enumerate() {
        match parse_weekday(&d) {
            Some(day) => days.push(day),
            None => c.err(format!("{dpath}[{i}]"), format!("{d:?} is not a weekday (mon, tue, ... or monday, ...)")),
        }
    }
    for key in ["every", "at", "duration"] {
        if !t.contains_key(key) {
            c.err(join(path, key), "is required for a recurring window");
        }
    }
    let (every, duration) = (every?, duration?);
    let weekly = every == "weekly";
    if weekly && days.is_empty() {
        c.err(dpath.clone(), "a weekly window needs at least one day");
    }
    if !weekly && t.contains_key("days") {
        c.err(dpath, "only weekly windows have days");
    }
    let period = if weekly { Duration::from_days(7) } else { Duration::from_days(1) };
    if duration > period {
        c.err(join(path, "duration"), format!("must not exceed the {every} period ({period})"));
        return None;
    }
    Some(Recurrence { days, at: at?, duration, timezone: timezone? })
}
