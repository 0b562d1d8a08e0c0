//! The severity policy: for each level its response and resolution targets, communication
//! cadence, who is paged and the post-mortem deadlines; the aliases that map other scales onto
//! P0-P4; custom roles and checklist templates. [`Policy::default`] reproduces the source
//! runbooks; `sevwatch.toml` overrides any part of it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::checklist::{default_templates, ChecklistTemplate};
use crate::{Duration, Severity, Timestamp};

/// A deadline rule: a fixed span after the incident started, or the end of the next business
/// day (17:00 UTC on the next Monday-to-Friday date), which is how the runbooks phrase P4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    After(Duration),
    NextBusinessDay,
}

impl Target {
    pub fn deadline(self, from: Timestamp) -> Timestamp {
        match self {
            Target::After(d) => {
                from.saturating_add(d.to_signed()).expect("a millisecond span never overflows a timestamp here")
            }
            Target::NextBusinessDay => {
                let mut date = from.to_zoned(TimeZone::UTC).date();
                loop {
                    date = date.tomorrow().expect("dates near the present have a tomorrow");
                    if !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
                        break;
                    }
                }
                date.at(17, 0, 0, 0)
                    .to_zoned(TimeZone::UTC)
                    .map(|z| z.timestamp())
                    .expect("17:00 UTC exists on every date")
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::After(d) => write!(f, "{d}"),
            Target::NextBusinessDay => f.write_str("next-business-day"),
        }
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().eq_ignore_ascii_case("next-business-day") {
            return Ok(Target::NextBusinessDay);
        }
        s.parse::<Duration>().map(Target::After).map_err(|e| format!("{e}, or \"next-business-day\""))
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// What one severity level promises.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelPolicy {
    pub name: String,
    pub description: String,
    pub response_target: Target,
    pub resolution_target: Target,
    /// How often a status update is due while the incident is open; `None` means "as needed".
    pub update_every: Option<Duration>,
    /// Who is paged, as the escalation policy names it (`all-oncall`, `primary`, ...).
    pub page: String,
    pub postmortem_required: bool,
    pub postmortem_schedule_within: Option<Duration>,
    pub postmortem_complete_within: Option<Duration>,
}

/// The whole policy in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Indexed by `Severity::index()`.
    pub levels: [LevelPolicy; 5],
    /// Lower-case alias -> level. Canonical names (`P0`..`P4`) always resolve and need no entry.
    pub aliases: BTreeMap<String, Severity>,
    pub custom_roles: Vec<String>,
    pub checklist: Vec<ChecklistTemplate>,
}

impl Policy {
    pub fn level(&self, s: Severity) -> &LevelPolicy {
        &self.levels[s.index()]
    }

    /// `P1`, `critical`, `SEV2`, ... -> a level, case-insensitively.
    pub fn resolve_severity(&self, input: &str) -> Result<Severity, String> {
        if let Ok(s) = input.parse::<Severity>() {
            return Ok(s);
        }
        self.aliases.get(&input.trim().to_ascii_lowercase()).copied().ok_or_else(|| {
            let known: Vec<&str> = self.aliases.keys().map(String::as_str).collect();
            format!("unknown severity {input:?} (expected P0-P4 or one of: {})", known.join(", "))
        })
    }
}

fn level(
    name: &str,
    description: &str,
    response: Target,
    resolution: Target,
    update_every: Option<Duration>,
    page: &str,
    postmortem: (bool, Option<Duration>, Option<Duration>),
) -> LevelPolicy {
    LevelPolicy {
        name: name.into(),
        description: description.into(),
        response_target: response,
        resolution_target: resolution,
        update_every,
        page: page.into(),
        postmortem_required: postmortem.0,
        postmortem_schedule_within: postmortem.1,
        postmortem_complete_within: postmortem.2,
    }
}

/// The aliases every installation starts with: word scales and SEV1..SEV5.
pub fn default_aliases() -> BTreeMap<String, Severity> {
    use Severity::*;
    [
        ("critical", P0),
        ("high", P1),
        ("medium", P2),
        // The word Prometheus rules and runbooks use for the middle level; the alert severity
        // map (`alert/severity_map.rs`) reads it as P2 too.
        ("warning", P2),
        ("low", P3),
        ("info", P4),
        ("informational", P4),
        ("sev1", P0),
        ("sev2", P1),
        ("sev3", P2),
        ("sev4", P3),
        ("sev5", P4),
    ]
    .into_iter()
    .map(|(a, s)| (a.to_string(), s))
    .collect()
}

impl Default for Policy {
    fn default() -> Self {
        let m = Duration::from_mins;
        let h = Duration::from_hours;
        let d = Duration::from_days;
        let after = Target::After;
        Policy {
            levels: [
                level(
                    "Critical",
                    "Complete outage, data loss or an active security breach",
                    after(m(5)),
                    after(h(1)),
                    Some(m(15)),
                    "all-oncall",
                    (true, Some(h(24)), Some(h(72))),
                ),
                level(
                    "High",
                    "Major functionality impaired for many users",
                    after(m(15)),
                    after(h(4)),
                    Some(m(30)),
                    "primary+secondary",
                    (true, Some(h(48)), Some(d(7))),
                ),
                level(
                    "Medium",
                    "Partial functionality impaired for some users",
                    after(m(30)),
                    after(h(8)),
                    Some(h(1)),
                    "primary",
                    (true, Some(d(7)), Some(d(14))),
                ),
                level(
                    "Low",
                    "Minor issue with a workaround",
                    after(h(2)),
                    after(h(24)),
                    Some(d(1)),
                    "business-hours",
                    (false, Some(d(14)), Some(d(30))),
                ),
                level(
                    "Informational",
                    "No immediate impact; an improvement to make",
                    Target::NextBusinessDay,
                    after(d(7)),
                    None,
                    "none",
                    (false, None, None),
                ),
            ],
            aliases: default_aliases(),
            custom_roles: Vec::new(),
            checklist: default_templates(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_reproduce_the_runbook_targets() {
        let p = Policy::default();
        let resp: Vec<String> = Severity::ALL.iter().map(|s| p.level(*s).response_target.to_string()).collect();
        assert_eq!(resp, ["5m", "15m", "30m", "2h", "next-business-day"]);
        let res: Vec<String> = Severity::ALL.iter().map(|s| p.level(*s).resolution_target.to_string()).collect();
        assert_eq!(res, ["1h", "4h", "8h", "1d", "1w"]);
        let cadence: Vec<Option<String>> =
            Severity::ALL.iter().map(|s| p.level(*s).update_every.map(|d| d.to_string())).collect();
        assert_eq!(cadence, [Some("15m".into()), Some("30m".into()), Some("1h".into()), Some("1d".into()), None]);
    }

    #[test]
    fn aliases_resolve_case_insensitively() {
        let p = Policy::default();
        assert_eq!(p.resolve_severity("Critical"), Ok(Severity::P0));
        assert_eq!(p.resolve_severity("SEV3"), Ok(Severity::P2));
        assert_eq!(p.resolve_severity("p4"), Ok(Severity::P4));
        assert!(p.resolve_severity("urgent").unwrap_err().contains("sev1"));
    }

    #[test]
    fn next_business_day_skips_the_weekend() {
        // Friday 2026-11-20 10:00 UTC -> Monday 2026-11-23 17:00 UTC.
        assert_eq!(Target::NextBusinessDay.deadline(ts("2026-11-20T10:00:00Z")), ts("2026-11-23T17:00:00Z"));
        // Tuesday -> Wednesday.
        assert_eq!(Target::NextBusinessDay.deadline(ts("2026-11-24T23:30:00Z")), ts("2026-11-25T17:00:00Z"));
    }
}
