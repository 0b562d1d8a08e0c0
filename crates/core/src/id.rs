//! Human incident identifiers: `INC-<n>`, allocated by the store without gaps.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncidentId(pub i64);

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "INC-{}", self.0)
    }
}

/// Accepts `INC-42`, `inc-42` and a bare `42`.
impl FromStr for IncidentId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        // `get`, not `t[..4]`: byte 4 may fall inside a multi-byte character (`abcé`).
        let digits = match t.get(..4) {
            Some(prefix) if t.len() > 4 && prefix.eq_ignore_ascii_case("INC-") => &t[4..],
            _ => t,
        };
        match digits.parse::<i64>() {
            Ok(n) if n > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(IncidentId(n)),
            _ => Err(format!("{s:?} is not an incident id (expected INC-<number>)")),
        }
    }
}

impl Serialize for IncidentId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IncidentId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_human_and_bare_forms() {
        assert_eq!("INC-42".parse::<IncidentId>(), Ok(IncidentId(42)));
        assert_eq!("inc-7".parse::<IncidentId>(), Ok(IncidentId(7)));
        assert_eq!("9".parse::<IncidentId>(), Ok(IncidentId(9)));
        for bad in ["INC-", "INC-0", "INC--1", "INC-+3", "abc", "INC-1x", "abcé", "ééé", "INCé1"] {
            assert!(bad.parse::<IncidentId>().is_err(), "{bad}");
        }
        assert_eq!(IncidentId(3).to_string(), "INC-3");
    }
}
