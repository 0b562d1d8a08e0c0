//! Walking a parsed JSON body with a path, so every parser reports exactly which field was
//! wrong (`alerts[3].labels.severity: expected a string, found a number`). Shared by the
//! source parsers; outside `alert`, only the API's JSON extractor uses it, through
//! [`check_unique_keys`].
//!
//! The body is parsed into [`Value`], a tree that borrows its strings from the body wherever
//! they need no unescaping and keeps an object's members in a plain list: ingestion parses
//! every request, and `serde_json::Value` (an owned string per key and value, members hashed
//! into an index map) was a fifth of the server's time per alert. Paths are built only when
//! something is wrong.
//!
//! A key given twice in one object is refused: JSON leaves its meaning open, and parsers
//! disagree (serde_json and Go keep the last, others the first), so a sender, a proxy that
//! inspects the body and Sevwatch could each act on a different value.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use super::limits::Kind;
use super::ParseError;
use crate::Timestamp;

/// A JSON value whose strings borrow from the body when they can.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    Object(Map<'a>),
}

/// A JSON object's members in body order. A key given twice is noted while parsing and the
/// body refused by [`object_body`]; until then [`Map::get`] reads the last one, as
/// `serde_json` does.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Map<'a> {
    members: Vec<(Cow<'a, str>, Value<'a>)>,
    /// The first member whose key an earlier member already has.
    repeated: Option<usize>,
}

impl<'a> Map<'a> {
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.members.iter().any(|(k, _)| k == key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|(k, _)| k.as_ref())
    }

    /// Members in body order; a repeated key appears more than once (the last one counts).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value<'a>)> {
        self.members.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl Value<'_> {
    fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The same value as `serde_json` would have built, for the rare field kept as JSON text.
    pub fn to_serde(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(a) => serde_json::Value::Array(a.iter().map(Value::to_serde).collect()),
            Value::Object(m) => {
                serde_json::Value::Object(m.members.iter().map(|(k, v)| (k.to_string(), v.to_serde())).collect())
            }
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Value<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value<'de>, E> {
        Ok(Number::from_f64(f).map_or(Value::Null, Value::Number))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s)))
    }
    fn visit_unit<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value<'de>, D::Error> {
        Deserialize::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(Key(k)) = map.next_key()? {
            members.push((k, map.next_value()?));
        }
        let repeated = first_repeated(&members);
        Ok(Value::Object(Map { members, repeated }))
    }
}

/// The first member whose key appeared before it. Objects are small (a dozen labels), where
/// comparing with every earlier key beats hashing; a large one is hashed so that a body of
/// thousands of keys costs linear time, not quadratic.
fn first_repeated(members: &[(Cow<'_, str>, Value<'_>)]) -> Option<usize> {
    if members.len() <= 16 {
        return (1..members.len()).find(|&i| members[..i].iter().any(|(k, _)| *k == members[i].0));
    }
    let mut seen = std::collections::HashSet::with_capacity(members.len());
    members.iter().position(|(k, _)| !seen.insert(k.as_ref()))
}

/// One step of a path from the root to a value.
enum Step<'v> {
    Key(&'v str),
    Index(usize),
}

/// The path of the first key given twice (depth first, in body order), innermost step first.
fn repeated_key<'v>(v: &'v Value<'_>) -> Option<Vec<Step<'v>>> {
    match v {
        Value::Object(m) => {
            if let Some(i) = m.repeated {
                return Some(vec![Step::Key(&m.members[i].0)]);
            }
            m.members.iter().find_map(|(k, child)| {
                let mut steps = repeated_key(child)?;
                steps.push(Step::Key(k));
                Some(steps)
            })
        }
        Value::Array(items) => items.iter().enumerate().find_map(|(i, child)| {
            let mut steps = repeated_key(child)?;
            steps.push(Step::Index(i));
            Some(steps)
        }),
        _ => None,
    }
}

/// `Err` naming the path of the first key given twice anywhere in `v`.
fn refuse_repeated_keys(v: &Value<'_>) -> Result<(), ParseError> {
    let Some(steps) = repeated_key(v) else { return Ok(()) };
    let mut path = String::new();
    for step in steps.iter().rev() {
        path = match step {
            Step::Key(k) => join(&path, k),
            Step::Index(i) => index(&path, *i),
        };
    }
    let key = match steps.first() {
        Some(Step::Key(k)) => *k,
        _ => "",
    };
    Err(ParseError::new(
        path,
        format!("duplicate key {key:?}: a key may appear only once in an object (JSON parsers disagree on which copy counts)"),
    ))
}

/// Whether a JSON document (of any shape) gives some key twice in one object: for request
/// bodies read by other means than [`object_body`] (the API's typed bodies, whose maps would
/// otherwise keep the last copy). A body that is not JSON is an error with an empty path.
pub fn check_unique_keys(body: &[u8]) -> Result<(), ParseError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| ParseError::new("", e.to_string()))?;
    refuse_repeated_keys(&value)
}

/// An object key, borrowed from the body when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// The body as a JSON object, or an error naming the line and column of a syntax error.
pub(crate) fn object_body(body: &[u8]) -> Result<Map<'_>, ParseError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Eof => "the body ends too early",
            _ => "the body is not valid JSON",
        };
        ParseError::new("", format!("{what} (line {}, column {}): {e}", e.line(), e.column()))
    })?;
    refuse_repeated_keys(&value)?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ParseError::new("", format!("expected a JSON object, found {}", type_name(&other)))),
    }
}

pub(crate) fn type_name(v: &Value<'_>) -> &'static str {
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
    clean_at(|| path.to_string(), s)
}

/// [`clean`], with the path built only if the string is refused.
fn clean_at(path: impl FnOnce() -> String, s: &str) -> Result<String, ParseError> {
    if s.contains('\0') {
        return Err(ParseError::new(path(), "must not contain the NUL character"));
    }
    Ok(s.to_string())
}

/// One JSON object and where it sits in the body.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    pub map: &'a Map<'a>,
    pub path: &'a str,
}

impl<'a> Obj<'a> {
    pub fn new(map: &'a Map<'a>, path: &'a str) -> Self {
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
    pub fn get(&self, key: &str) -> Option<&'a Value<'a>> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn wrong(&self, key: &str, expected: &str, found: &Value<'_>) -> ParseError {
        ParseError::new(self.path_of(key), format!("expected {expected}, found {}", type_name(found)))
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<String>, ParseError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => clean_at(|| self.path_of(key), s).map(Some),
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
            Some(Value::String(s)) => clean_at(|| self.path_of(key), s).map(Some),
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

    pub fn opt_obj(&self, key: &str) -> Result<Option<&'a Map<'a>>, ParseError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(other) => Err(self.wrong(key, "an object", other)),
        }
    }

    pub fn opt_array(&self, key: &str) -> Result<Option<&'a Vec<Value<'a>>>, ParseError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(self.wrong(key, "an array", other)),
        }
    }

    /// An object whose values are all strings (labels, annotations, tags).
    pub fn string_map(&self, key: &str) -> Result<Option<BTreeMap<String, String>>, ParseError> {
        let Some(m) = self.opt_obj(key)? else { return Ok(None) };
        let vpath = |k: &str| join(&self.path_of(key), k);
        let mut out = BTreeMap::new();
        for (k, v) in m.iter() {
            match v {
                Value::String(s) => {
                    out.insert(clean_at(|| vpath(k), k)?, clean_at(|| vpath(k), s)?);
                }
                other => {
                    return Err(ParseError::new(vpath(k), format!("expected a string, found {}", type_name(other))))
                }
            }
        }
        Ok(Some(out))
    }

    /// [`Obj::string_map`] held to the caps of labels or annotations
    /// ([`limits`](super::limits)), each breach reported at its own path.
    pub fn capped_map(&self, key: &str, kind: Kind) -> Result<Option<BTreeMap<String, String>>, ParseError> {
        let Some(map) = self.string_map(key)? else { return Ok(None) };
        kind.check_map(|| self.path_of(key), &map)?;
        Ok(Some(map))
    }

    /// [`Obj::opt_str`] for a value that becomes a label or an annotation, held to its cap.
    pub fn capped_str(&self, key: &str, kind: Kind) -> Result<Option<String>, ParseError> {
        let s = self.opt_str(key)?;
        if let Some(v) = &s {
            kind.check_value(|| self.path_of(key), v)?;
        }
        Ok(s)
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
    fn the_borrowed_tree_reads_as_serde_json_does() {
        let bodies = [
            r#"{"a":1,"b":[true,null,-2,3.5e3,"x\u0000y"],"c":{"k\"ey":"v\n","k":{}},"a":"last"}"#,
            r#"{"ключ":"значение","e":"\ud83d\ude00","n":18446744073709551615,"m":-9223372036854775808}"#,
        ];
        for body in bodies {
            let ours: Value = serde_json::from_str(body).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(ours.to_serde(), theirs, "{body}");
        }
        let map = object_body(br#"{"a":"first","s":"plain","t":"esc\taped"}"#).unwrap();
        assert_eq!(map.get("a"), Some(&Value::String("first".into())));
        assert!(matches!(map.get("s"), Some(Value::String(Cow::Borrowed("plain")))));
        assert!(matches!(map.get("t"), Some(Value::String(Cow::Owned(t))) if t == "esc\taped"));
    }

    fn serde_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)),
            any::<String>().prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
                prop::collection::vec((prop_oneof!["[a-c]", any::<String>()], inner), 0..6)
                    .prop_map(|kvs| serde_json::Value::Object(kvs.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Whatever JSON the body holds, the borrowed tree reads it as serde_json does
        /// (escapes, numbers, a repeated key's last value), and a body is refused exactly when
        /// an object in it repeats a key.
        #[test]
        fn the_borrowed_tree_agrees_with_serde_json_on_any_json(v in serde_value(), dup in proptest::bool::ANY) {
            let mut text = v.to_string();
            let repeats = dup && text.starts_with('{') && text.len() > 2 && v.get("a").is_some();
            if dup && text.starts_with('{') && text.len() > 2 {
                text = format!("{{\"a\":1,{}", &text[1..]);
            }
            let ours: Value = serde_json::from_str(&text).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
            proptest::prop_assert_eq!(ours.to_serde(), theirs);
            let checked = check_unique_keys(text.as_bytes());
            // Generated objects have unique keys (a serde_json map), so the only repeat is ours.
            proptest::prop_assert_eq!(checked.is_err(), repeats, "{}", text);
            if let Err(e) = checked {
                proptest::prop_assert_eq!(e.path, "a");
            }
        }
    }

    #[test]
    fn a_repeated_key_is_refused_with_its_path() {
        let cases: [(&str, &str); 6] = [
            (r#"{"alerts":[],"alerts":[]}"#, "alerts"),
            (
                r#"{"alerts":[{"labels":{"a":"1"}},{"labels":{"severity":"info","b":"2","severity":"critical"}}]}"#,
                "alerts[1].labels.severity",
            ),
            (
                r#"{"payload":{"custom_details":{"free space":1,"free space":2}}}"#,
                "payload.custom_details[\"free space\"]",
            ),
            (r#"{"a":{"x":1},"b":{"k":1,"\u006b":2}}"#, "b.k"),
            (r#"[{"ok":1},{"ok":1,"ok":2}]"#, "[1].ok"),
            (
                r#"{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k3":3}"#,
                "k3",
            ),
        ];
        for (body, path) in cases {
            let e = check_unique_keys(body.as_bytes()).expect_err(body);
            assert_eq!(e.path, path, "{body}");
            assert!(e.message.starts_with("duplicate key"), "{}", e.message);
            if body.starts_with('{') {
                assert_eq!(object_body(body.as_bytes()).map(|_| ()).unwrap_err(), e);
            }
        }
        assert!(
            check_unique_keys(br#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#).is_ok(),
            "same key at different places"
        );
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused_with_a_reason() {
        assert!(object_body(b"[1]").unwrap_err().message.contains("an array"));
        assert!(object_body(b"{\"a\":").unwrap_err().message.contains("ends too early"));
        assert!(object_body(b"\xff").unwrap_err().message.contains("not valid JSON"));
    }
}
