//! Human durations as written in configuration and shown to responders: `"90s"`, `"15m"`,
//! `"4h"`, `"1d"`, `"1w"`, and combinations such as `"1h30m"`. Stored as whole milliseconds so
//! that arithmetic on timestamps is exact and the same on every backend.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative span of time with millisecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(i64);

const UNITS: &[(&str, i64)] =
    &[("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub const fn from_millis(ms: i64) -> Self {
        Duration(ms)
    }
    pub const fn from_secs(s: i64) -> Self {
        Duration(s * 1_000)
    }
    pub const fn from_mins(m: i64) -> Self {
        Duration(m * 60_000)
    }
    pub const fn from_hours(h: i64) -> Self {
        Duration(h * 3_600_000)
    }
    pub const fn from_days(d: i64) -> Self {
        Duration(d * 86_400_000)
    }
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// The span as a jiff duration, for timestamp arithmetic.
    pub fn to_signed(self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_millis(self.0)
    }
}

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {why} (write it like \"90s\", \"15m\", \"4h\", \"1d\", \"1w\" or \"1h30m\")")]
pub struct DurationError {
    pub input: String,
    pub why: &'static str,
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |why| DurationError { input: input.to_string(), why };
        let s = input.trim();
        if s.is_empty() {
            return Err(err("it is empty"));
        }
        let mut total: i64 = 0;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err("expected a number"));
            }
            let n: i64 = rest[..digits].parse().map_err(|_| err("number too large"))?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let factor = UNITS
                .iter()
                .find(|(u, _)| *u == unit)
                .map(|(_, f)| *f)
                .ok_or_else(|| err(if unit.is_empty() { "a number needs a unit" } else { "unknown unit" }))?;
            total = n.checked_mul(factor).and_then(|ms| total.checked_add(ms)).ok_or_else(|| err("too long"))?;
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    /// The shortest exact form: `3600000` ms prints as `1h`, `5400000` as `1h30m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, factor) in UNITS {
            if rest >= *factor {
                write!(f, "{}{}", rest / factor, unit)?;
                rest %= factor;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_used_in_configuration() {
        let cases = [
            ("15m", 15 * 60_000),
            ("4h", 4 * 3_600_000),
            ("1w", 7 * 86_400_000),
            ("1h30m", 90 * 60_000),
            ("90s", 90_000),
            ("250ms", 250),
            (" 2d ", 2 * 86_400_000),
        ];
        for (text, ms) in cases {
            assert_eq!(text.parse::<Duration>().unwrap().as_millis(), ms, "{text}");
        }
    }

    #[test]
    fn refuses_malformed_durations_with_a_reason() {
        for bad in ["", "15", "m", "15x", "-5m", "1h 30m", "99999999999999999999w"] {
            assert!(bad.parse::<Duration>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["15m", "1h30m", "1w", "2d3h", "0s", "1s250ms"] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.to_string(), text);
        }
    }
}
