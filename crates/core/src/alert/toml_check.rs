//! Small typed readers over a `toml::Table` that record a [`ConfigProblem`] at the key's path
//! instead of stopping, so `sevwatch config validate` lists every mistake in the `[alerts]`
//! table in one run. The same approach as `crate::config`, kept here so the alert settings can
//! be validated on their own.

use toml::{Table, Value};

use crate::config::ConfigProblem;
use crate::Duration;

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(crate) struct Check<'p> {
    pub problems: &'p mut Vec<ConfigProblem>,
}

impl Check<'_> {
    pub fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(ConfigProblem { path: path.into(), message: message.into() });
    }

    pub fn only_keys(&mut self, t: &Table, path: &str, known: &[&str]) {
        for k in t.keys() {
            if !known.contains(&k.as_str()) {
                self.err(join(path, k), format!("unknown key (expected one of: {})", known.join(", ")));
            }
        }
    }

    pub fn string(&mut self, t: &Table, path: &str, key: &str) -> Option<String> {
        match t.get(key)? {
            Value::String(s) if s.trim().is_empty() => {
                self.err(join(path, key), "must not be empty");
                None
            }
            Value::String(s) => Some(s.clone()),
            other => {
                self.err(join(path, key), format!("expected a string, found {}", other.type_str()));
                None
            }
        }
    }

    pub fn boolean(&mut self, t: &Table, path: &str, key: &str) -> Option<bool> {
        match t.get(key)? {
            Value::Boolean(b) => Some(*b),
            other => {
                self.err(join(path, key), format!("expected true or false, found {}", other.type_str()));
                None
            }
        }
    }

    pub fn integer(&mut self, t: &Table, path: &str, key: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        match t.get(key)? {
            Value::Integer(n) if range.contains(n) => Some(*n),
            Value::Integer(_) => {
                self.err(join(path, key), format!("must be between {} and {}", range.start(), range.end()));
                None
            }
            other => {
                self.err(join(path, key), format!("expected an integer, found {}", other.type_str()));
                None
            }
        }
    }

    /// A duration longer than zero.
    pub fn duration(&mut self, t: &Table, path: &str, key: &str) -> Option<Duration> {
        self.parsed(t, path, key, |s| match s.parse::<Duration>() {
            Ok(d) if d > Duration::ZERO => Ok(d),
            Ok(_) => Err("must be longer than 0s".into()),
            Err(e) => Err(e.to_string()),
        })
    }

    /// A string parsed with `parse`, its error reported at the key's path.
    pub fn parsed<T>(
        &mut self,
        t: &Table,
        path: &str,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let s = self.string(t, path, key)?;
        match parse(&s) {
            Ok(v) => Some(v),
            Err(e) => {
                self.err(join(path, key), e);
                None
            }
        }
    }

    /// An array of strings; each bad element is reported at `key[i]`.
    pub fn strings(&mut self, t: &Table, path: &str, key: &str) -> Option<Vec<String>> {
        let v = t.get(key)?;
        let Some(items) = v.as_array() else {
            self.err(join(path, key), format!("expected an array of strings, found {}", v.type_str()));
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) if !s.trim().is_empty() => out.push(s.to_string()),
                Some(_) => self.err(format!("{}[{i}]", join(path, key)), "must not be empty"),
                None => self
                    .err(format!("{}[{i}]", join(path, key)), format!("expected a string, found {}", item.type_str())),
            }
        }
        Some(out)
    }

    /// An array of tables (`[[path.key]]`), each with its own path.
    pub fn tables<'t>(&mut self, t: &'t Table, path: &str, key: &str) -> Vec<(String, &'t Table)> {
        let Some(v) = t.get(key) else { return Vec::new() };
        let Some(items) = v.as_array() else {
            self.err(
                join(path, key),
                format!("expected an array of tables ([[{}]]), found {}", join(path, key), v.type_str()),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let ipath = format!("{}[{i}]", join(path, key));
            match item.as_table() {
                Some(it) => out.push((ipath, it)),
                None => self.err(ipath, format!("expected a table, found {}", item.type_str())),
            }
        }
        out
    }
}
