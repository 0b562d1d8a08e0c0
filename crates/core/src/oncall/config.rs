//! The on-call part of `sevwatch.toml`: `[[users]]`, `[[schedules]]` (with
//! `[[schedules.layers]]` and `[[schedules.overrides]]`) and `[[escalation_policies]]`
//! (with `[[escalation_policies.steps]]`). Parsing starts from [`super::defaults`]; an entry
//! whose id matches a default replaces it, any other entry is added. Every problem is reported
//! with its key path, as in [`crate::config`]: entries one by one first, then the references
//! between them (unknown users, schedules, layers and policies, escalation loops) over the
//! merged result, so a replaced default that breaks another default is caught too.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use toml::{Table, Value};

use super::defaults;
use super::escalation::{BusinessHours, EscalationPolicy, Step, Target};
use super::references;
use super::rotation::{Rotation, MIN_LENGTH};
use super::schedule::{Layer, Override, Schedule};
use super::user::{ContactMethod, User};
use crate::config::ConfigProblem;
use crate::{Duration, Severity};

/// Users, schedules and escalation policies in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnCallConfig {
    pub users: Vec<User>,
    pub schedules: Vec<Schedule>,
    pub policies: Vec<EscalationPolicy>,
}

impl Default for OnCallConfig {
    fn default() -> Self {
        OnCallConfig { users: defaults::users(), schedules: defaults::schedules(), policies: defaults::policies() }
    }
}

impl OnCallConfig {
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }
    pub fn schedule(&self, id: &str) -> Option<&Schedule> {
        self.schedules.iter().find(|s| s.id == id)
    }
    pub fn policy(&self, id: &str) -> Option<&EscalationPolicy> {
        self.policies.iter().find(|p| p.id == id)
    }
    /// The policy that pages for `severity` (id `p0` .. `p4`).
    pub fn policy_for(&self, severity: Severity) -> Option<&EscalationPolicy> {
        self.policy(&defaults::policy_id_for(severity))
    }
}

/// Longest repeat count accepted: beyond this a ladder pages people for days.
const MAX_REPEAT: i64 = 20;

/// Parse the on-call keys of `t` (the table at `path`; `""` for the file's root), adding
/// every problem to `problems`. Keys other than `users`, `schedules` and
/// `escalation_policies` are left to the caller.
pub fn parse(t: &Table, path: &str, problems: &mut Vec<ConfigProblem>) -> OnCallConfig {
    let mut c = Checker { problems, prefix: path };
    let mut cfg = OnCallConfig::default();
    // Where each entry came from, for reference problems found after merging.
    let mut user_paths: Vec<String> =
        cfg.users.iter().map(|u| format!("{}(default {})", c.key("users"), u.id)).collect();
    let mut sched_paths: Vec<String> =
        cfg.schedules.iter().map(|s| format!("{}(default {})", c.key("schedules"), s.id)).collect();
    let mut policy_paths: Vec<String> =
        cfg.policies.iter().map(|p| format!("{}(default {})", c.key("escalation_policies"), p.id)).collect();

    for (p, item) in c.entries(t, "users") {
        if let Some(u) = c.user(item, &p) {
            merge(&mut cfg.users, &mut user_paths, u, p, |u| &u.id, &mut c);
        }
    }
    for (p, item) in c.entries(t, "schedules") {
        if let Some(s) = c.schedule(item, &p) {
            merge(&mut cfg.schedules, &mut sched_paths, s, p, |s| &s.id, &mut c);
        }
    }
    for (p, item) in c.entries(t, "escalation_policies") {
        if let Some(pol) = c.policy(item, &p) {
            merge(&mut cfg.policies, &mut policy_paths, pol, p, |p| &p.id, &mut c);
        }
    }
    references::check(&cfg, &sched_paths, &policy_paths, c.problems);
    cfg
}

/// Replace the default with the same id, or append; a second entry with an id already
/// given in this file is a duplicate.
fn merge<T>(
    list: &mut Vec<T>,
    paths: &mut Vec<String>,
    item: T,
    path: String,
    id: impl Fn(&T) -> &String,
    c: &mut Checker<'_>,
) {
    match list.iter().position(|x| id(x) == id(&item)) {
        Some(i) if !paths[i].contains("(default ") => {
            c.err(format!("{path}.id"), format!("duplicate id {:?} (first at {})", id(&item), paths[i]));
        }
        Some(i) => {
            list[i] = item;
            paths[i] = path;
        }
        None => {
            list.push(item);
            paths.push(path);
        }
    }
}

struct Checker<'a> {
    problems: &'a mut Vec<ConfigProblem>,
    prefix: &'a str,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A kebab-case id (`vp-engineering`): users, schedules and policies.
pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn time_zone(name: &str) -> Result<TimeZone, String> {
    // UTC needs no time zone database, so a machine without one can still run the defaults.
    if name.eq_ignore_ascii_case("UTC") || name == "Etc/UTC" {
        return Ok(TimeZone::UTC);
    }
    TimeZone::get(name)
        .map_err(|_| format!("unknown time zone {name:?} (expected an IANA name like \"Europe/Berlin\")"))
}

impl Checker<'_> {
    fn key(&self, k: &str) -> String {
        join(self.prefix, k)
    }

    fn err(&mut self, path: String, message: impl Into<String>) {
        self.problems.push(ConfigProblem { path, message: message.into() });
    }

    fn only_keys(&mut self, t: &Table, path: &str, known: &[&str]) {
        for k in t.keys() {
            if !known.contains(&k.as_str()) {
                self.err(join(path, k), format!("unknown key (expected one of: {})", known.join(", ")));
            }
        }
    }

    /// `[[key]]` entries of `t` with their paths (`schedules[2]`).
    fn entries<'t>(&mut self, t: &'t Table, key: &str) -> Vec<(String, &'t Table)> {
        self.entries_at(t, &self.key(key), key)
    }

    fn entries_at<'t>(&mut self, t: &'t Table, path: &str, key: &str) -> Vec<(String, &'t Table)> {
        let Some(v) = t.get(key) else { return Vec::new() };
        let Some(items) = v.as_array() else {
            self.err(path.to_string(), format!("expected an array of tables ([[{key}]]), found {}", v.type_str()));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_table() {
                Some(it) => out.push((format!("{path}[{i}]"), it)),
                None => self.err(format!("{path}[{i}]"), format!("expected a table, found {}", item.type_str())),
            }
        }
        out
    }

    fn string(&mut self, t: &Table, path: &str, key: &str) -> Option<String> {
        match t.get(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.err(join(path, key), format!("expected a string, found {}", other.type_str()));
                None
            }
        }
    }

    fn required(&mut self, t: &Table, path: &str, key: &str) -> Option<String> {
        if !t.contains_key(key) {
            self.err(join(path, key), "is required");
        }
        self.string(t, path, key)
    }

    fn parsed<T>(&mut self, t: &Table, path: &str, key: &str, parse: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let s = self.string(t, path, key)?;
        parse(&s).map_err(|e| self.err(join(path, key), e)).ok()
    }

    fn id(&mut self, t: &Table, path: &str) -> Option<String> {
        let id = self.required(t, path, "id")?;
        if is_id(&id) {
            Some(id)
        } else {
            self.err(join(path, "id"), format!("{id:?} is not a kebab-case id like \"vp-engineering\""));
            None
        }
    }

    fn strings(&mut self, t: &Table, path: &str, key: &str) -> Option<Vec<String>> {
        let v = t.get(key)?;
        let Some(items) = v.as_array() else {
            self.err(join(path, key), format!("expected an array of strings, found {}", v.type_str()));
            return None;
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.err(format!("{}[{i}]", join(path, key)), "expected a string"),
            }
        }
        Some(out)
    }

    fn user(&mut self, t: &Table, path: &str) -> Option<User> {
        self.only_keys(t, path, &["id", "name", "contacts"]);
        let id = self.id(t, path);
        let name = self.string(t, path, "name");
        let mut contacts = Vec::new();
        let cpath = join(path, "contacts");
        for (p, ct) in self.entries_at(t, &cpath, "contacts") {
            let kinds: Vec<&String> = ct.keys().collect();
            let [kind] = kinds.as_slice() else {
                self.err(
                    p,
                    format!(
                        "expected exactly one of {} (like {{ email = \"a@example.com\" }})",
                        ContactMethod::KINDS.join(", ")
                    ),
                );
                continue;
            };
            let kpath = join(&p, kind);
            match ct[kind.as_str()].as_str().map(|v| ContactMethod::parse(kind, v)) {
                Some(Ok(m)) => contacts.push(m),
                Some(Err(e)) => self.err(kpath, e),
                None => self.err(kpath, "expected a string"),
            }
        }
        let id = id?;
        Some(User { name: name.unwrap_or_else(|| id.clone()), id, contacts })
    }

    fn schedule(&mut self, t: &Table, path: &str) -> Option<Schedule> {
        self.only_keys(t, path, &["id", "name", "time_zone", "layers", "overrides"]);
        let id = self.id(t, path);
        let name = self.string(t, path, "name");
        let zone = self.parsed(t, path, "time_zone", time_zone);
        let tz_ok = zone.is_some() || !t.contains_key("time_zone");
        let zone = zone.unwrap_or(TimeZone::UTC);
        let mut layers = Vec::new();
        let layer_entries = self.entries_at(t, &join(path, "layers"), "layers");
        if layer_entries.is_empty() && !t.contains_key("layers") {
            self.err(join(path, "layers"), "a schedule needs at least one [[schedules.layers]]");
        }
        let mut layer_paths = Vec::new();
        for (p, lt) in layer_entries {
            if let Some(l) = self.layer(lt, &p, &zone) {
                layers.push(l);
                layer_paths.push(p);
            }
        }
        self.overlapping_layers(&layers, &layer_paths);
        let mut overrides = Vec::new();
        for (p, ot) in self.entries_at(t, &join(path, "overrides"), "overrides") {
            if let Some(o) = self.override_(ot, &p, &zone, &layers) {
                overrides.push(o);
            }
        }
        let id = id?;
        tz_ok.then(|| Schedule { name: name.unwrap_or_else(|| id.clone()), id, layers, overrides })
    }

    fn layer(&mut self, t: &Table, path: &str, schedule_zone: &TimeZone) -> Option<Layer> {
        self.only_keys(t, path, &["name", "users", "rotation", "handoff", "start", "end", "time_zone"]);
        let name = self.required(t, path, "name");
        let users = self.strings(t, path, "users");
        match &users {
            Some(u) if u.is_empty() => self.err(join(path, "users"), "must name at least one user"),
            None if !t.contains_key("users") => self.err(join(path, "users"), "is required"),
            _ => {}
        }
        if !t.contains_key("rotation") {
            self.err(join(path, "rotation"), "is required (\"daily\", \"weekly\" or a length like \"3d\" or \"12h\")");
        }
        let length = self.parsed(t, path, "rotation", |v| {
            let d = match v.trim() {
                "daily" => Duration::from_days(1),
                "weekly" => Duration::from_days(7),
                other => other.parse::<Duration>().map_err(|e| format!("{e}, or \"daily\" or \"weekly\""))?,
            };
            if d == Duration::ZERO {
                Err("a rotation cannot have zero length".into())
            } else if d < MIN_LENGTH {
                Err(format!("{d} is shorter than the shortest rotation, {MIN_LENGTH}"))
            } else {
                Ok(d)
            }
        });
        let handoff = match t.contains_key("handoff") {
            true => self.parsed(t, path, "handoff", |v| {
                v.parse::<Time>().map_err(|_| format!("{v:?} is not a time of day like \"09:00\""))
            }),
            false => Some(Time::constant(9, 0, 0, 0)),
        };
        let date = |v: &str| v.parse::<Date>().map_err(|_| format!("{v:?} is not a date like \"2026-01-05\""));
        let start =
            self.required(t, path, "start").and_then(|v| date(&v).map_err(|e| self.err(join(path, "start"), e)).ok());
        let end = self.parsed(t, path, "end", date);
        let zone = match t.contains_key("time_zone") {
            true => self.parsed(t, path, "time_zone", time_zone),
            false => Some(schedule_zone.clone()),
        };
        let rotation = Rotation { users: users?, length: length?, handoff: handoff?, time_zone: zone?, start: start? };
        let layer = Layer { name: name?, rotation, end };
        let (Some(s), e) = (layer.starts_at(), layer.ends_at()) else {
            self.err(join(path, "start"), "is outside the supported range of dates");
            return None;
        };
        if layer.end.is_some() && e.is_none_or(|e| e <= s) {
            self.err(join(path, "end"), "must be after start");
            return None;
        }
        Some(layer)
    }

    /// Entries of one layer name replace each other over time and must not overlap.
    fn overlapping_layers(&mut self, layers: &[Layer], paths: &[String]) {
        let span = |l: &Layer| (l.starts_at().unwrap_or(Timestamp::MIN), l.ends_at().unwrap_or(Timestamp::MAX));
        for (j, b) in layers.iter().enumerate() {
            for (i, a) in layers[..j].iter().enumerate() {
                let ((a0, a1), (b0, b1)) = (span(a), span(b));
                if a.name == b.name && a0 < b1 && b0 < a1 {
                    self.err(
                        join(&paths[j], "name"),
                        format!(
                            "layer {:?} overlaps {} in time (give it an end date or another name)",
                            b.name, paths[i]
                        ),
                    );
                }
            }
        }
    }

    fn override_(&mut self, t: &Table, path: &str, zone: &TimeZone, layers: &[Layer]) -> Option<Override> {
        self.only_keys(t, path, &["user", "start", "end", "layer"]);
        let user = self.required(t, path, "user");
        // An instant with an offset, or a local date-time read in the schedule's zone.
        let instant = |v: &str| {
            v.parse::<Timestamp>()
                .or_else(|_| {
                    v.parse::<DateTime>()
                        .map_err(|_| ())
                        .and_then(|dt| dt.to_zoned(zone.clone()).map(|z| z.timestamp()).map_err(|_| ()))
                })
                .map_err(|_| format!("{v:?} is not a time like \"2026-03-06T18:00:00Z\" or \"2026-03-06T18:00\""))
        };
        let start = self
            .required(t, path, "start")
            .and_then(|v| instant(&v).map_err(|e| self.err(join(path, "start"), e)).ok());
        let end =
            self.required(t, path, "end").and_then(|v| instant(&v).map_err(|e| self.err(join(path, "end"), e)).ok());
        let layer = self.string(t, path, "layer");
        if let Some(l) = &layer {
            if !layers.iter().any(|x| &x.name == l) {
                self.err(join(path, "layer"), format!("no layer named {l:?} in this schedule"));
            }
        }
        let (start, end) = (start?, end?);
        if end <= start {
            self.err(join(path, "end"), "must be after start");
            return None;
        }
        Some(Override { user: user?, start, end, layer })
    }

    fn policy(&mut self, t: &Table, path: &str) -> Option<EscalationPolicy> {
        self.only_keys(t, path, &["id", "name", "steps", "repeat", "repeat_every", "business_hours"]);
        let id = self.id(t, path);
        let name = self.string(t, path, "name");
        let mut steps = Vec::new();
        let mut ok = true;
        let spath = join(path, "steps");
        for (p, st) in self.entries_at(t, &spath, "steps") {
            self.only_keys(st, &p, &["delay", "targets"]);
            let delay = match st.contains_key("delay") {
                true => self.parsed(st, &p, "delay", |v| v.parse::<Duration>().map_err(|e| e.to_string())),
                false => Some(Duration::ZERO),
            };
            let mut targets = Vec::new();
            let raw = self.strings(st, &p, "targets").unwrap_or_default();
            if raw.is_empty() {
                self.err(join(&p, "targets"), "a step needs at least one target");
            }
            for (k, s) in raw.iter().enumerate() {
                match s.parse::<Target>() {
                    Ok(target) => targets.push(target),
                    Err(e) => self.err(format!("{p}.targets[{k}]"), e),
                }
            }
            match (delay, steps.last()) {
                (Some(d), Some(Step { delay: prev, .. })) if d < *prev => {
                    self.err(join(&p, "delay"), format!("steps must be in order of delay ({d} comes after {prev})"));
                    ok = false;
                }
                (Some(delay), _) => steps.push(Step { delay, targets }),
                (None, _) => ok = false,
            }
        }
        let repeat = match t.get("repeat") {
            None => 0,
            Some(Value::Integer(n)) if (0..=MAX_REPEAT).contains(n) => u32::try_from(*n).expect("bounded above"),
            Some(_) => {
                self.err(join(path, "repeat"), format!("expected an integer from 0 to {MAX_REPEAT}"));
                ok = false;
                0
            }
        };
        let every = self.parsed(t, path, "repeat_every", |v| v.parse::<Duration>().map_err(|e| e.to_string()));
        let last = steps.last().map_or(Duration::ZERO, |s| s.delay);
        match every {
            None if repeat > 0 && !t.contains_key("repeat_every") => {
                self.err(join(path, "repeat_every"), "is required when repeat is more than 0");
                ok = false;
            }
            Some(e) if e <= last => {
                self.err(join(path, "repeat_every"), format!("must be longer than the last step's delay ({last})"));
                ok = false;
            }
            _ => {}
        }
        let business_hours = match t.get("business_hours") {
            None => None,
            Some(Value::Table(b)) => {
                let bp = join(path, "business_hours");
                self.only_keys(b, &bp, &["time_zone", "open", "close"]);
                let time =
                    |v: &str| v.parse::<Time>().map_err(|_| format!("{v:?} is not a time of day like \"09:00\""));
                let zone = self.parsed(b, &bp, "time_zone", time_zone);
                let open = self.parsed(b, &bp, "open", time).unwrap_or(Time::constant(9, 0, 0, 0));
                let close = self.parsed(b, &bp, "close", time).unwrap_or(Time::constant(17, 0, 0, 0));
                if close <= open {
                    self.err(join(&bp, "close"), "must be later than open");
                    ok = false;
                }
                Some(BusinessHours { time_zone: zone.unwrap_or(TimeZone::UTC), open, close })
            }
            Some(other) => {
                self.err(join(path, "business_hours"), format!("expected a table, found {}", other.type_str()));
                None
            }
        };
        let id = id?;
        ok.then(|| EscalationPolicy {
            name: name.unwrap_or_else(|| id.clone()),
            id,
            steps,
            repeat,
            repeat_every: every,
            business_hours,
        })
    }
}
