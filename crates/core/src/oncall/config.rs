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
use toml::Table;

use super::defaults;
use super::escalation::{BusinessHours, EscalationPolicy, Step, Target};
use super::references;
use super::rotation::{Rotation, MIN_LENGTH};
use super::schedule::{Layer, Override, Schedule};
use super::user::{ContactMethod, User};
use crate::config::check::{walk, Check, Problems};
use crate::config::ConfigProblem;
use crate::{Duration, Severity};

/// A kebab-case id (`vp-engineering`): users, schedules and policies.
pub use crate::config::check::is_kebab_case as is_id;

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
    walk(t, path, problems, read)
}

/// The on-call keys of the table `c` as one part of a whole file's walk.
pub(crate) fn read(c: &Check<'_>) -> OnCallConfig {
    let mut cfg = OnCallConfig::default();
    // Where each entry came from, for reference problems found after merging.
    let from_defaults = |key: &str, ids: Vec<&String>| -> Vec<String> {
        ids.into_iter().map(|id| format!("{}(default {id})", c.key_path(key))).collect()
    };
    let mut user_paths = from_defaults("users", cfg.users.iter().map(|u| &u.id).collect());
    let mut sched_paths = from_defaults("schedules", cfg.schedules.iter().map(|s| &s.id).collect());
    let mut policy_paths = from_defaults("escalation_policies", cfg.policies.iter().map(|p| &p.id).collect());
    for uc in c.tables("users") {
        if let Some(u) = user(&uc) {
            merge(&mut cfg.users, &mut user_paths, u, &uc, |u| &u.id);
        }
    }
    for sc in c.tables("schedules") {
        if let Some(s) = schedule(&sc) {
            merge(&mut cfg.schedules, &mut sched_paths, s, &sc, |s| &s.id);
        }
    }
    for pc in c.tables("escalation_policies") {
        if let Some(p) = policy(&pc) {
            merge(&mut cfg.policies, &mut policy_paths, p, &pc, |p| &p.id);
        }
    }
    references::check(&cfg, &sched_paths, &policy_paths, c.problems());
    cfg
}

/// Replace the default with the same id, or append; a second entry with an id already
/// given in this file is a duplicate.
fn merge<T>(list: &mut Vec<T>, paths: &mut Vec<String>, item: T, c: &Check<'_>, id: impl Fn(&T) -> &String) {
    match list.iter().position(|x| id(x) == id(&item)) {
        Some(i) if !paths[i].contains("(default ") => {
            c.report("id", format!("duplicate id {:?} (first at {})", id(&item), paths[i]));
        }
        Some(i) => {
            list[i] = item;
            paths[i] = c.path().to_string();
        }
        None => {
            list.push(item);
            paths.push(c.path().to_string());
        }
    }
}

fn id(c: &Check<'_>) -> Option<String> {
    c.required("id", "");
    c.kebab_id("id", "vp-engineering")
}

fn user(c: &Check<'_>) -> Option<User> {
    c.known_keys(&["id", "name", "contacts"]);
    let id = id(c);
    let name = c.line("name");
    let mut contacts = Vec::new();
    for cc in c.tables("contacts") {
        let kinds: Vec<&str> = cc.keys().collect();
        let [kind] = kinds.as_slice() else {
            cc.report_here(format!(
                "expected exactly one of {} (like {{ email = \"a@example.com\" }})",
                ContactMethod::KINDS.join(", ")
            ));
            continue;
        };
        contacts.extend(cc.parsed(kind, |v| ContactMethod::parse(kind, v)));
    }
    let id = id?;
    Some(User { name: name.unwrap_or_else(|| id.clone()), id, contacts })
}

fn schedule(c: &Check<'_>) -> Option<Schedule> {
    c.known_keys(&["id", "name", "time_zone", "layers", "overrides"]);
    let id = id(c);
    let name = c.line("name");
    let zone = c.time_zone("time_zone");
    let tz_ok = zone.is_some() || !c.has("time_zone");
    let zone = zone.unwrap_or(TimeZone::UTC);
    let layer_checks = c.tables("layers");
    if layer_checks.is_empty() && !c.has("layers") {
        c.report("layers", "a schedule needs at least one [[schedules.layers]]");
    }
    let mut layers = Vec::new();
    let mut layer_paths = Vec::new();
    for lc in layer_checks {
        if let Some(l) = layer(&lc, &zone) {
            layers.push(l);
            layer_paths.push(lc.path().to_string());
        }
    }
    overlapping_layers(c.problems(), &layers, &layer_paths);
    let overrides = c.tables("overrides").iter().filter_map(|oc| override_(oc, &zone, &layers)).collect();
    let id = id?;
    tz_ok.then(|| Schedule { name: name.unwrap_or_else(|| id.clone()), id, layers, overrides })
}

fn layer(c: &Check<'_>, schedule_zone: &TimeZone) -> Option<Layer> {
    c.known_keys(&["name", "users", "rotation", "handoff", "start", "end", "time_zone"]);
    c.required("name", "");
    let name = c.line("name");
    c.required("users", "");
    c.at_least_one("users", "user");
    let users = c.strings("users").filter(|u| !u.is_empty());
    c.required("rotation", "(\"daily\", \"weekly\" or a length like \"3d\" or \"12h\")");
    let length = c.parsed("rotation", |v| {
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
    let handoff = if c.has("handoff") { c.time_of_day("handoff") } else { Some(Time::constant(9, 0, 0, 0)) };
    let date = |v: &str| v.parse::<Date>().map_err(|_| format!("{v:?} is not a date like \"2026-01-05\""));
    c.required("start", "");
    let start = c.parsed("start", date);
    let end = c.parsed("end", date);
    let zone = if c.has("time_zone") { c.time_zone("time_zone") } else { Some(schedule_zone.clone()) };
    let rotation = Rotation { users: users?, length: length?, handoff: handoff?, time_zone: zone?, start: start? };
    let layer = Layer { name: name?, rotation, end };
    let (Some(s), e) = (layer.starts_at(), layer.ends_at()) else {
        c.report("start", "is outside the supported range of dates");
        return None;
    };
    if layer.end.is_some() && e.is_none_or(|e| e <= s) {
        c.report("end", "must be after start");
        return None;
    }
    Some(layer)
}

/// Entries of one layer name replace each other over time and must not overlap.
fn overlapping_layers(problems: &Problems, layers: &[Layer], paths: &[String]) {
    let span = |l: &Layer| (l.starts_at().unwrap_or(Timestamp::MIN), l.ends_at().unwrap_or(Timestamp::MAX));
    for (j, b) in layers.iter().enumerate() {
        for (i, a) in layers[..j].iter().enumerate() {
            let ((a0, a1), (b0, b1)) = (span(a), span(b));
            if a.name == b.name && a0 < b1 && b0 < a1 {
                problems.report(
                    format!("{}.name", paths[j]),
                    format!("layer {:?} overlaps {} in time (give it an end date or another name)", b.name, paths[i]),
                );
            }
        }
    }
}

fn override_(c: &Check<'_>, zone: &TimeZone, layers: &[Layer]) -> Option<Override> {
    c.known_keys(&["user", "start", "end", "layer"]);
    c.required("user", "");
    let user = c.line("user");
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
    c.required("start", "");
    let start = c.parsed("start", instant);
    c.required("end", "");
    let end = c.parsed("end", instant);
    let layer = c.line("layer");
    if let Some(l) = layer.as_ref().filter(|l| !layers.iter().any(|x| &&x.name == l)) {
        c.report("layer", format!("no layer named {l:?} in this schedule"));
    }
    let (start, end) = (start?, end?);
    if end <= start {
        c.report("end", "must be after start");
        return None;
    }
    Some(Override { user: user?, start, end, layer })
}

fn policy(c: &Check<'_>) -> Option<EscalationPolicy> {
    c.known_keys(&["id", "name", "steps", "repeat", "repeat_every", "business_hours"]);
    let id = id(c);
    let name = c.line("name");
    let mut steps: Vec<Step> = Vec::new();
    let mut ok = true;
    for sc in c.tables("steps") {
        sc.known_keys(&["delay", "targets"]);
        let delay = if sc.has("delay") { sc.duration("delay") } else { Some(Duration::ZERO) };
        sc.required("targets", "(a step needs at least one target)");
        sc.at_least_one("targets", "target");
        let targets = sc.parsed_strings("targets", |s| s.parse::<Target>());
        match (delay, steps.last()) {
            (Some(d), Some(Step { delay: prev, .. })) if d < *prev => {
                sc.report("delay", format!("steps must be in order of delay ({d} comes after {prev})"));
                ok = false;
            }
            (Some(delay), _) => steps.push(Step { delay, targets: targets.unwrap_or_default() }),
            (None, _) => ok = false,
        }
    }
    let repeat = match c.has("repeat") {
        false => Some(0),
        true => c.integer("repeat", 0..=MAX_REPEAT).map(|n| u32::try_from(n).expect("bounded by the range above")),
    };
    ok &= repeat.is_some();
    let repeat = repeat.unwrap_or(0);
    let every = c.duration("repeat_every");
    let last = steps.last().map_or(Duration::ZERO, |s| s.delay);
    match every {
        None if repeat > 0 && !c.has("repeat_every") => {
            c.report("repeat_every", "is required when repeat is more than 0");
            ok = false;
        }
        Some(e) if e <= last => {
            c.report("repeat_every", format!("must be longer than the last step's delay ({last})"));
            ok = false;
        }
        _ => {}
    }
    let business_hours = c.table("business_hours").map(|b| {
        b.known_keys(&["time_zone", "open", "close"]);
        let zone = b.time_zone("time_zone");
        let open = b.time_of_day("open").unwrap_or(Time::constant(9, 0, 0, 0));
        let close = b.time_of_day("close").unwrap_or(Time::constant(17, 0, 0, 0));
        if close <= open {
            b.report("close", "must be later than open");
            ok = false;
        }
        BusinessHours { time_zone: zone.unwrap_or(TimeZone::UTC), open, close }
    });
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
