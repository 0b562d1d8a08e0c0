//! The one checker every section of `sevwatch.toml` is read with: the core's `[server]`,
//! `[severity]`, `[roles]`, `[checklists]`, `[runbooks]`, `[alerts]` and on-call tables, and
//! the notify crate's channels, routes and `[outbox]`. A [`Check`] is one table of the file
//! with its key path (`channels[2]`, `alerts.routes[0].routes[1]`); each getter reads one key
//! as one type and gives `None` when the key is absent or wrong. A wrong key also records a
//! [`ConfigProblem`] at its full path in the [`Problems`] the whole walk shares, and the walk
//! goes on, so `sevwatch config validate` lists every mistake of a file in one run.
//!
//! The rules that four hand-written copies used to hold, each a little differently, are here
//! once: a string a key asks for is never blank, and a name, id, URL or list item is one line;
//! a number is checked against its range and the message says which number was refused; a key
//! nobody reads is reported with the keys that are allowed; every bad item of a list is
//! reported at its index (`matchers[1]`).
//!
//! This module depends on nothing else in the crate except the [`Duration`] value type (and
//! jiff, for time zones and times of day); the sections depend on it, never the other way round.

use std::cell::RefCell;
use std::fmt;
use std::ops::RangeInclusive;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use toml::{Table, Value};

use crate::duration::Duration;

/// One thing wrong with a configuration file, at a key path.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ConfigProblem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found so far in one walk over a file, shared by all its [`Check`]s.
#[derive(Debug, Default)]
pub struct Problems(RefCell<Vec<ConfigProblem>>);

impl Problems {
    /// Record a problem at a path the caller built (for rules across sections).
    pub fn report(&self, path: impl Into<String>, message: impl Into<String>) {
        self.0.borrow_mut().push(ConfigProblem { path: path.into(), message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }

    pub fn into_vec(self) -> Vec<ConfigProblem> {
        self.0.into_inner()
    }
}

/// Walk `table`, found at `path` (`""` for the file's root), with `read`, and append every
/// problem found to `problems`: the body of each section's public `parse`.
pub fn walk<T>(table: &Table, path: &str, problems: &mut Vec<ConfigProblem>, read: impl FnOnce(&Check<'_>) -> T) -> T {
    let found = Problems::default();
    let value = read(&Check::new(table, path, &found));
    problems.extend(found.into_vec());
    value
}

/// `alerts` + `routes` -> `alerts.routes`; the root's keys have no prefix.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A kebab-case id or name (`vp-engineering`, `root-cause-identified`): what users,
/// schedules, policies, custom roles and checklist items are called.
pub fn is_kebab_case(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// One table of the file, at its key path.
#[derive(Clone, Debug)]
pub struct Check<'a> {
    table: &'a Table,
    path: String,
    problems: &'a Problems,
}

impl<'a> Check<'a> {
    pub fn new(table: &'a Table, path: &str, problems: &'a Problems) -> Check<'a> {
        Check { table, path: path.to_string(), problems }
    }

    /// This table's own key path (`""` for the root).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The full path of `key` in this table.
    pub fn key_path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Where problems go: for a rule that spans several tables.
    pub fn problems(&self) -> &'a Problems {
        self.problems
    }

    /// A problem with the value of `key`.
    pub fn report(&self, key: &str, message: impl Into<String>) {
        self.problems.report(self.key_path(key), message);
    }

    /// A problem with this table as a whole.
    pub fn report_here(&self, message: impl Into<String>) {
        self.problems.report(self.path.clone(), message);
    }

    pub fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    /// The keys of this table (for maps such as `[runbooks.env]`).
    pub fn keys(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.table.keys().map(String::as_str)
    }

    /// Report every key not in `known`, naming the ones that are.
    pub fn known_keys(&self, known: &[&str]) {
        for k in self.table.keys().filter(|k| !known.contains(&k.as_str())) {
            self.report(k, format!("unknown key (expected one of: {})", known.join(", ")));
        }
    }

    /// Report `key` as missing, unless it is there; `why` ends the message ("for a one-off
    /// window", "(slack, discord, ...)") and may be empty. True when the key is there.
    pub fn required(&self, key: &str, why: &str) -> bool {
        let there = self.has(key);
        if !there {
            self.report(key, if why.is_empty() { "is required".to_string() } else { format!("is required {why}") });
        }
        there
    }

    /// A string that is not blank and may span lines (a description, a checklist item's text).
    pub fn string(&self, key: &str) -> Option<String> {
        let value = self.table.get(key)?;
        self.text(&self.key_path(key), value, false)
    }

    /// A string that is not blank and is one line: a name, an id, a URL, an address, a path.
    pub fn line(&self, key: &str) -> Option<String> {
        let value = self.table.get(key)?;
        self.text(&self.key_path(key), value, true)
    }

    /// A one-line string turned into `T` by `parse`, whose error becomes the message.
    pub fn parsed<T>(&self, key: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let s = self.line(key)?;
        parse(&s).map_err(|e| self.report(key, e)).ok()
    }

    /// A kebab-case id; `example` shows what one looks like.
    pub fn kebab_id(&self, key: &str, example: &str) -> Option<String> {
        self.parsed(key, |s| match is_kebab_case(s) {
            true => Ok(s.to_string()),
            false => Err(format!("{s:?} is not a kebab-case id like {example:?}")),
        })
    }

    /// One of a few words, each standing for a value (`tls = "starttls"` or `"none"`).
    pub fn word<T: Copy>(&self, key: &str, words: &[(&str, T)]) -> Option<T> {
        self.parsed(key, |s| match words.iter().find(|(w, _)| *w == s) {
            Some((_, v)) => Ok(*v),
            None => {
                let names: Vec<String> = words.iter().map(|(w, _)| format!("{w:?}")).collect();
                Err(format!("unknown value {s:?} (expected {})", or_list(&names)))
            }
        })
    }

    pub fn integer(&self, key: &str, range: RangeInclusive<i64>) -> Option<i64> {
        match self.table.get(key)? {
            Value::Integer(n) if range.contains(n) => Some(*n),
            Value::Integer(n) => {
                self.report(key, format!("must be between {} and {}, not {n}", range.start(), range.end()));
                None
            }
            other => self.wrong_type(key, "an integer", other),
        }
    }

    pub fn boolean(&self, key: &str) -> Option<bool> {
        match self.table.get(key)? {
            Value::Boolean(b) => Some(*b),
            other => self.wrong_type(key, "true or false", other),
        }
    }

    /// A duration (`"90s"`, `"1h30m"`), zero included.
    pub fn duration(&self, key: &str) -> Option<Duration> {
        self.parsed(key, |s| s.parse::<Duration>().map_err(|e| e.to_string()))
    }

    /// A duration longer than zero.
    pub fn positive_duration(&self, key: &str) -> Option<Duration> {
        self.positive_duration_up_to(key, Duration::from_millis(i64::MAX))
    }

    /// A duration longer than zero and at most `max`.
    pub fn positive_duration_up_to(&self, key: &str, max: Duration) -> Option<Duration> {
        let d = self.duration(key)?;
        if d > Duration::ZERO && d <= max {
            return Some(d);
        }
        match max.as_millis() {
            i64::MAX => self.report(key, "must be longer than 0s"),
            _ => self.report(key, format!("must be longer than 0s and at most {max}")),
        }
        None
    }

    /// An IANA time zone (`"Europe/Berlin"`); UTC needs no time zone database, so a machine
    /// without one can still run the defaults.
    pub fn time_zone(&self, key: &str) -> Option<TimeZone> {
        self.parsed(key, |name| {
            if name.eq_ignore_ascii_case("UTC") || name == "Etc/UTC" {
                return Ok(TimeZone::UTC);
            }
            TimeZone::get(name)
                .map_err(|_| format!("unknown time zone {name:?} (expected an IANA name like \"Europe/Berlin\")"))
        })
    }

    /// A time of day (`"09:00"`).
    pub fn time_of_day(&self, key: &str) -> Option<Time> {
        self.parsed(key, |v| v.parse::<Time>().map_err(|_| format!("{v:?} is not a time of day like \"09:00\"")))
    }

    /// An array of one-line strings.
    pub fn strings(&self, key: &str) -> Option<Vec<String>> {
        self.parsed_strings(key, |s| Ok(s.to_string()))
    }

    /// An array of one-line strings, each turned into `T` by `parse`. Every bad item is
    /// reported at `key[i]` and left out, so the rules over the good ones still run.
    pub fn parsed_strings<T>(&self, key: &str, parse: impl FnMut(&str) -> Result<T, String>) -> Option<Vec<T>> {
        match self.table.get(key)? {
            Value::Array(items) => Some(self.items(key, items, parse)),
            other => self.wrong_type(key, "an array of strings", other),
        }
    }

    /// Like [`Check::parsed_strings`], but a single string stands for a list of one
    /// (`to = "root@localhost"`).
    pub fn parsed_strings_or_one<T>(&self, key: &str, parse: impl FnMut(&str) -> Result<T, String>) -> Option<Vec<T>> {
        match self.table.get(key)? {
            Value::Array(items) => Some(self.items(key, items, parse)),
            Value::String(_) => self.parsed(key, parse).map(|one| vec![one]),
            other => self.wrong_type(key, "a string or an array of strings", other),
        }
    }

    /// Report `key` if it holds an empty list: "must name at least one `what`". A list whose
    /// every item was refused is not reported again.
    pub fn at_least_one(&self, key: &str, what: &str) {
        if matches!(self.table.get(key), Some(Value::Array(items)) if items.is_empty()) {
            self.report(key, format!("must name at least one {what}"));
        }
    }

    /// The table at `key`.
    pub fn table(&self, key: &str) -> Option<Check<'a>> {
        match self.table.get(key)? {
            Value::Table(t) => Some(Check::new(t, &self.key_path(key), self.problems)),
            other => self.wrong_type(key, "a table", other),
        }
    }

    /// The tables of the array at `key` (`[[schedules.layers]]`), each at `key[i]`.
    pub fn tables(&self, key: &str) -> Vec<Check<'a>> {
        let Some(value) = self.table.get(key) else { return Vec::new() };
        let path = self.key_path(key);
        let Value::Array(items) = value else {
            // The header a user writes has no indices: `[[alerts.routes.routes]]`.
            let header: String =
                path.split('.').map(|p| p.split('[').next().unwrap_or(p)).collect::<Vec<_>>().join(".");
            self.wrong_type::<()>(key, &format!("an array of tables ([[{header}]])"), value);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let ipath = format!("{path}[{i}]");
            match item {
                Value::Table(t) => out.push(Check::new(t, &ipath, self.problems)),
                other => self.problems.report(ipath, format!("expected a table, found {}", other.type_str())),
            }
        }
        out
    }

    fn text(&self, path: &str, value: &Value, one_line: bool) -> Option<String> {
        let message = match value {
            Value::String(s) if s.trim().is_empty() => "must not be empty".to_string(),
            Value::String(s) if one_line && s.contains(['\n', '\r']) => "must be one line".to_string(),
            Value::String(s) => return Some(s.clone()),
            other => format!("expected a string, found {}", other.type_str()),
        };
        self.problems.report(path, message);
        None
    }

    fn items<T>(&self, key: &str, items: &[Value], mut parse: impl FnMut(&str) -> Result<T, String>) -> Vec<T> {
        let path = self.key_path(key);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let ipath = format!("{path}[{i}]");
            if let Some(s) = self.text(&ipath, item, true) {
                match parse(&s) {
                    Ok(v) => out.push(v),
                    Err(e) => self.problems.report(ipath, e),
                }
            }
        }
        out
    }

    fn wrong_type<T>(&self, key: &str, expected: &str, found: &Value) -> Option<T> {
        self.report(key, format!("expected {expected}, found {}", found.type_str()));
        None
    }
}

/// `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests;
