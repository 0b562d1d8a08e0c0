//! The five severity levels. P0 is the most severe. Aliases from other scales (`critical`,
//! `SEV1`, ...) are resolved by the [`Policy`](crate::Policy), because which alias means which
//! level is configuration, not a rule.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Severity {
    P0,
    P1,
    P2,
    P3,
    P4,
}

impl Severity {
    pub const ALL: [Severity; 5] = [Severity::P0, Severity::P1, Severity::P2, Severity::P3, Severity::P4];

    /// 0 for P0 ... 4 for P4.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        ["P0", "P1", "P2", "P3", "P4"][self.index()]
    }

    /// True when `self` is strictly more urgent than `other` (P0 outranks P1).
    pub fn outranks(self, other: Severity) -> bool {
        self < other
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The canonical names only (`P0`..`P4`, any case). Use `Policy::resolve_severity` for aliases.
impl FromStr for Severity {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim().to_ascii_uppercase().as_str() {
            "P0" => Ok(Severity::P0),
            "P1" => Ok(Severity::P1),
            "P2" => Ok(Severity::P2),
            "P3" => Ok(Severity::P3),
            "P4" => Ok(Severity::P4),
            _ => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p0_outranks_everything_else() {
        for s in &Severity::ALL[1..] {
            assert!(Severity::P0.outranks(*s));
            assert!(!s.outranks(Severity::P0));
        }
        assert!(!Severity::P2.outranks(Severity::P2));
    }

    #[test]
    fn canonical_names_parse_in_any_case() {
        assert_eq!("p3".parse::<Severity>(), Ok(Severity::P3));
        assert!("P5".parse::<Severity>().is_err());
    }
}
