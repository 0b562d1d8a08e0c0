//! Walking a parsed JSON body with a path, so every parser reports exactly which field was
//! wrong (`alerts[3].labels.severity: expected a string, found a number`). Shared by the
//! source parsers; nothing outside `alert` uses it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::ParseError;
use crate::Timestamp;

/// The body as a JSON object, or an error naming the line and column of a syntax error.
pub(crate) fn object_body(body: &[u8]) -> Result<Map<String, Value>, ParseError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Eof => "the body ends too early",
            _ => "the body is not valid JSON",
        };
        ParseError::new("", format!("{what} (line {}, column {}): {e}", e.line(), e.column()))
    })?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ParseError::new("", format!("expected a JSON object, found {}", type_name(&other)))),
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `path.key`, or `path["odd key"]` when the key is not a plain identifier.
pub(crate) fn join(path: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{}]", serde_json::Value::String(key.to_string())),
    }
}

pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Strings we keep must be storable as text in both databases: PostgreSQL refuses NUL.
pub(crate) fn clean(path: &str, s: &str) -> Result<String, ParseError> {
    if s.contains('\0') {
        return Err(ParseError::new(path, "must not contain the NUL character"));
    }
    Ok(s.to_string())
}

/// One JSON object and where it sits in the body.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    pub path: &'a str,
}

impl<'a> Obj<'a> {
    pub fn new(map: &'a Map<String, Value>, path: &'a str) -> Self {
        Obj { map, path }
    }

    pub fn path_of(&self, key: &str) -> String {
        join(self.path, key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// A present, non-null value. Senders write `null` for "not set" often enough that
    /// treating it as absent avoids refusing otherwise good payloads.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn wrong(&self, key: &str, expected: &str, found: &Value) -> ParseError {
        ParseError::new(self.path_of(key), format!("expected {expected}, found {}", type_name(found)))
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<String>, ParseError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => clean(&self.path_of(key), s).map(Some),
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    /// A string that is present and not blank.
    pub fn req_str(&self, key: &str) -> Result<String, ParseError> {
        match self.opt_str(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            Some(_) => Err(ParseError::new(self.path_of(key), "must not be empty")),
            None => Err(ParseError::new(self.path_of(key), "is required")),
        }
    }

    /// A string or a number, as text: for metadata fields whose type differs between senders
    /// (Alertmanager 0.x sent a numeric `groupKey`).
    pub fn loose_str(&self, key: &str) -> Result<Option<String>, ParseError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => clean(&self.path_of(key), s).map(Some),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    /// A non-negative count; a missing or unreadable one is 0 because it is informational only.
    pub fn loose_count(&self, key: &str) -> u64 {
        match self.get(key) {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
            Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
            _ => 0,
        }
    }

    pub fn opt_obj(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, ParseError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(other) => Err(self.wrong(key, "an object", other)),
        }
    }

    pub fn opt_array(&self, key: &str) -> Result<Option<&'a Vec<Value>>, ParseError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(self.wrong(key, "an array", other)),
        }
    }

    /// An object whose values are all strings (labels, annotations, tags).
    pub fn string_map(&self, key: &str) -> Result<Option<BTreeMap<String, String>>, ParseError> {
        let Some(m) = self.opt_obj(key)? else { return Ok(None) };
        let path = self.path_of(key);
        let mut out = BTreeMap::new();
        for (k, v) in m {
            let vpath = join(&path, k);
            match v {
                Value::String(s) => {
                    out.insert(clean(&vpath, k)?, clean(&vpath, s)?);
                }
                other => return Err(ParseError::new(vpath, format!("expected a string, found {}", type_name(other)))),
            }
        }
        Ok(Some(out))
    }

    /// An RFC 3339 time. Go's zero time (`0001-01-01T00:00:00Z`), which Alertmanager sends for
    /// "no end yet", and an empty string both mean unset.
    pub fn opt_time(&self, key: &str) -> Result<Option<Timestamp>, ParseError> {
        let Some(s) = self.opt_str(key)? else { return Ok(None) };
        parse_time(&s).map_err(|m| ParseError::new(self.path_of(key), m))
    }
}

pub(crate) fn parse_time(s: &str) -> Result<Option<Timestamp>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let ts: Timestamp = s.parse().map_err(|_| format!("{s:?} is not an RFC 3339 time like 2024-03-01T02:09:00Z"))?;
    if ts.to_zoned(jiff::tz::TimeZone::UTC).year() <= 1 {
        return Ok(None);
    }
    Ok(Some(ts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_keys_that_are_not_identifiers() {
        assert_eq!(join("", "alerts"), "alerts");
        assert_eq!(join("alerts[0]", "labels"), "alerts[0].labels");
        assert_eq!(join("payload.custom_details", "free space"), "payload.custom_details[\"free space\"]");
    }

    #[test]
    fn times_accept_the_forms_real_senders_use() {
        let cases = [
            ("2020-02-06T00:17:58.432911368Z", Some("2020-02-06T00:17:58.432911368Z")),
            ("2017-08-03T15:17:37.804-04:00", Some("2017-08-03T19:17:37.804Z")),
            ("2015-07-17T08:42:58.315+0000", Some("2015-07-17T08:42:58.315Z")),
            ("0001-01-01T00:00:00Z", None),
            ("", None),
        ];
        for (input, want) in cases {
            let got = parse_time(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got.map(|t| t.to_string()), want.map(String::from), "{input}");
        }
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused_with_a_reason() {
        assert!(object_body(b"[1]").unwrap_err().message.contains("an array"));
        assert!(object_body(b"{\"a\":").unwrap_err().message.contains("ends too early"));
        assert!(object_body(b"\xff").unwrap_err().message.contains("not valid JSON"));
    }
}
