//! Label matchers as Alertmanager writes them: `service=~"api|web"`, `alertname!="Watchdog"`.
//! Regular expressions are anchored at both ends, and a label the alert lacks compares as the
//! empty string, both as in Alertmanager, so matchers copied from an `alertmanager.yml` mean
//! the same thing here. Used by routes and silences.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// One condition on one label.
#[derive(Clone, Debug)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    /// Compiled `^(?:value)$` for the regex operators.
    regex: Option<Regex>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid matcher {input:?}: {why}")]
pub struct MatcherError {
    pub input: String,
    pub why: String,
}

/// Regexes are compiled from configuration and API input: cap their size so a hostile
/// pattern cannot take the process's memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Matcher {
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, MatcherError> {
        let err = |why: String| MatcherError { input: format!("{name}{}{value:?}", op.as_str()), why };
        if name.is_empty() {
            return Err(err("the label name is empty".into()));
        }
        let regex = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(
                regex::RegexBuilder::new(&format!("^(?:{value})$"))
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| err(format!("not a valid regular expression: {e}")))?,
            ),
            _ => None,
        };
        Ok(Matcher { name: name.to_string(), op, value: value.to_string(), regex })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_value(labels.get(&self.name).map(String::as_str).unwrap_or(""))
    }

    /// Does this matcher accept `v` as its label's value?
    pub fn matches_value(&self, v: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => v == self.value,
            (MatchOp::NotEqual, _) => v != self.value,
            (MatchOp::Regex, Some(re)) => re.is_match(v),
            (MatchOp::NotRegex, Some(re)) => !re.is_match(v),
            // `new` compiles a regex for both regex operators; this arm is unreachable.
            (MatchOp::Regex | MatchOp::NotRegex, None) => false,
        }
    }

    /// True when an alert without this label would match: a silence made only of such
    /// matchers would silence everything.
    pub fn matches_empty(&self) -> bool {
        self.matches(&BTreeMap::new())
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Eq for Matcher {}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.name, self.op.as_str(), quote(&self.value))
    }
}

impl FromStr for Matcher {
    type Err = MatcherError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |why: &str| MatcherError { input: input.to_string(), why: why.to_string() };
        let s = input.trim();
        let at = s.find(['=', '!']).ok_or_else(|| err("expected an operator: =, !=, =~ or !~"))?;
        let name = s[..at].trim();
        let rest = &s[at..];
        let (op, value) = if let Some(v) = rest.strip_prefix("=~") {
            (MatchOp::Regex, v)
        } else if let Some(v) = rest.strip_prefix("!~") {
            (MatchOp::NotRegex, v)
        } else if let Some(v) = rest.strip_prefix("!=") {
            (MatchOp::NotEqual, v)
        } else if let Some(v) = rest.strip_prefix('=') {
            (MatchOp::Equal, v)
        } else {
            return Err(err("expected an operator: =, !=, =~ or !~"));
        };
        if name.is_empty() {
            return Err(err("the label name is empty"));
        }
        if name.contains(|c: char| c.is_whitespace() || c == '"' || c == '{' || c == '}') {
            return Err(err("the label name must not contain spaces, quotes or braces"));
        }
        let value = unquote(value.trim()).map_err(err)?;
        Matcher::new(name, op, &value)
    }
}

/// The inverse of [`unquote`]: only the characters it treats specially are escaped.
fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `"a\"b"` -> `a"b`; an unquoted value is taken as written.
fn unquote(v: &str) -> Result<String, &'static str> {
    let Some(inner) = v.strip_prefix('"') else {
        if v.contains('"') {
            return Err("a value with a quote must be quoted as a whole");
        }
        return Ok(v.to_string());
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                return if chars.as_str().trim().is_empty() {
                    Ok(out)
                } else {
                    Err("unexpected text after the closing quote")
                }
            }
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(c @ ('"' | '\\')) => out.push(c),
                // Regexes use backslashes (`\d`, `\.`): keep them for the regex engine.
                Some(c) => {
                    out.push('\\');
                    out.push(c);
                }
                None => return Err("the value ends inside an escape"),
            },
            c => out.push(c),
        }
    }
    Err("the quoted value is not closed")
}

impl Serialize for Matcher {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn each_operator_matches_like_alertmanager() {
        let l = labels(&[("service", "api"), ("alertname", "Watchdog"), ("env", "prod-eu")]);
        let cases = [
            ("service=api", true),
            ("service=\"api\"", true),
            ("service=web", false),
            ("alertname!=\"Watchdog\"", false),
            ("alertname!=Other", true),
            ("service=~\"api|web\"", true),
            ("service=~\"ap\"", false),
            ("env=~\"prod-.*\"", true),
            ("env!~\"prod-.*\"", false),
            ("env!~\"staging\"", true),
            ("team=\"\"", true),
            ("team!=\"\"", false),
            ("team=~\".*\"", true),
            ("team=~\".+\"", false),
            (" service = \"api\" ", true),
        ];
        for (text, want) in cases {
            let m: Matcher = text.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(m.matches(&l), want, "{text}");
        }
    }

    #[test]
    fn regexes_are_anchored_at_both_ends() {
        let m: Matcher = "service=~\"api|web\"".parse().unwrap();
        assert!(!m.matches(&labels(&[("service", "xapi")])));
        assert!(!m.matches(&labels(&[("service", "webx")])));
        assert!(m.matches(&labels(&[("service", "web")])));
    }

    #[test]
    fn malformed_matchers_are_refused_with_a_reason() {
        for bad in ["service", "=api", "service=~\"(\"", "service=\"api", "service=\"a\"b", "ser vice=a", "a=b\"c"] {
            assert!(bad.parse::<Matcher>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn display_round_trips_through_parse_and_serde() {
        for text in ["service=\"api\"", "alertname!=\"Watch\\\"dog\"", "host=~\"db\\\\d+\"", "x!~\"\""] {
            let m: Matcher = text.parse().unwrap();
            let again: Matcher = m.to_string().parse().unwrap();
            assert_eq!(m, again, "{text}");
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(serde_json::from_str::<Matcher>(&json).unwrap(), m);
        }
    }

    #[test]
    fn backslash_escapes_reach_the_regex_engine() {
        let m: Matcher = r#"host=~"db\d+""#.parse().unwrap();
        assert!(m.matches(&labels(&[("host", "db12")])));
        assert!(!m.matches(&labels(&[("host", "dbx")])));
    }
}
