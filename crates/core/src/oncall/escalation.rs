//! Escalation policies as data: ordered steps, each with a delay and the targets to page, and
//! a repeat count. The pure calculator that decides which step is due lives in
//! [`super::escalate`]; the defaults that reproduce the runbook matrix live in
//! [`super::defaults`].
//!
//! **Delays are measured from the start of the round**, and the first round starts when the
//! incident is triggered. This matches how runbooks state the matrix ("VP Engineering at 15
//! min, CTO at 30 min"), so a config reads like the runbook. A policy with `repeat = N` runs
//! its ladder N more times; round `r` starts `r * repeat_every` after the first.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscalationPolicy {
    /// Kebab-case id; the policy for a severity is the one whose id is that severity in lower
    /// case (`p0` .. `p4`), see [`super::defaults::policy_id_for`].
    pub id: String,
    pub name: String,
    /// In order of delay. No steps means nobody is paged (the P4 default).
    pub steps: Vec<Step>,
    /// How many more times the whole ladder runs after the first round.
    pub repeat: u32,
    /// Time between round starts; required when `repeat > 0` and longer than the last delay.
    pub repeat_every: Option<Duration>,
    /// When set, the ladder's clock starts at the first business-hours instant at or after the
    /// trigger instead of at the trigger (the runbooks' "business hours" for P3).
    pub business_hours: Option<BusinessHours>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// From the start of the round.
    pub delay: Duration,
    pub targets: Vec<Target>,
}

/// Who or what a step pages. Written in config as `schedule:ID`, `schedule:ID/LAYER`,
/// `user:ID`, `channel:NAME` or `policy:ID`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// Whoever is on call for one layer, or for every layer with `layer: None` ("all on-call").
    Schedule {
        schedule: String,
        layer: Option<String>,
    },
    User(String),
    /// A chat channel by name (`#incident-critical`); `notify` maps names to destinations.
    Channel(String),
    /// Start another policy's ladder as its own escalation.
    Policy(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Schedule { schedule, layer: Some(l) } => write!(f, "schedule:{schedule}/{l}"),
            Target::Schedule { schedule, layer: None } => write!(f, "schedule:{schedule}"),
            Target::User(u) => write!(f, "user:{u}"),
            Target::Channel(c) => write!(f, "channel:{c}"),
            Target::Policy(p) => write!(f, "policy:{p}"),
        }
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Target, String> {
        let hint = "expected schedule:ID, schedule:ID/LAYER, user:ID, channel:NAME or policy:ID";
        let Some((kind, rest)) = s.trim().split_once(':') else {
            return Err(format!("{s:?}: {hint}"));
        };
        let rest = rest.trim();
        if rest.is_empty() {
            return Err(format!("{s:?} names no {kind}: {hint}"));
        }
        Ok(match kind.trim() {
            "schedule" => match rest.split_once('/') {
                Some((id, layer)) if !id.is_empty() && !layer.is_empty() => {
                    Target::Schedule { schedule: id.into(), layer: Some(layer.into()) }
                }
                Some(_) => return Err(format!("{s:?}: {hint}")),
                None => Target::Schedule { schedule: rest.into(), layer: None },
            },
            "user" => Target::User(rest.into()),
            "channel" => Target::Channel(rest.into()),
            "policy" => Target::Policy(rest.into()),
            _ => return Err(format!("{s:?}: unknown target kind {kind:?}; {hint}")),
        })
    }
}

/// Monday to Friday, `open` to `close` local time in `time_zone`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessHours {
    pub time_zone: TimeZone,
    pub open: Time,
    pub close: Time,
}

impl BusinessHours {
    /// `at` itself when it falls within business hours, else the next opening.
    pub fn next_open(&self, at: Timestamp) -> Timestamp {
        let local = self.time_zone.to_datetime(at);
        let weekday = |d: jiff::civil::Date| !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
        if weekday(local.date()) && local.time() >= self.open && local.time() < self.close {
            return at;
        }
        let mut date = local.date();
        if !(weekday(date) && local.time() < self.open) {
            date = date.tomorrow().unwrap_or(date);
        }
        // A week always contains a weekday; the bound only guards against a calendar edge.
        for _ in 0..7 {
            if weekday(date) {
                break;
            }
            date = date.tomorrow().unwrap_or(date);
        }
        self.time_zone.to_ambiguous_zoned(date.to_datetime(self.open)).compatible().map(|z| z.timestamp()).unwrap_or(at)
    }
}

impl EscalationPolicy {
    /// Every step of every round as (round, step index, offset from the ladder's start), in
    /// the order they fall due. A repeating policy without `repeat_every` (which validation
    /// refuses) runs once.
    pub fn ladder(&self) -> Vec<(u32, usize, Duration)> {
        let rounds = if self.repeat_every.is_some() { self.repeat.saturating_add(1) } else { 1 };
        let every = self.repeat_every.unwrap_or(Duration::ZERO).as_millis();
        let mut out = Vec::new();
        for r in 0..rounds {
            for (i, s) in self.steps.iter().enumerate() {
                let offset = every.saturating_mul(i64::from(r)).saturating_add(s.delay.as_millis());
                out.push((r, i, Duration::from_millis(offset)));
            }
        }
        out.sort_by_key(|(r, i, off)| (*off, *r, *i));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn targets_parse_and_print_in_the_config_syntax() {
        let cases = [
            ("schedule:platform", Some(Target::Schedule { schedule: "platform".into(), layer: None })),
            (
                "schedule:platform/primary",
                Some(Target::Schedule { schedule: "platform".into(), layer: Some("primary".into()) }),
            ),
            ("user:vp-engineering", Some(Target::User("vp-engineering".into()))),
            ("channel:#incident-critical", Some(Target::Channel("#incident-critical".into()))),
            ("policy:p1", Some(Target::Policy("p1".into()))),
            ("schedule:/primary", None),
            ("schedule:platform/", None),
            ("user:", None),
            ("team:sre", None),
            ("alice", None),
        ];
        for (text, want) in cases {
            let got = text.parse::<Target>().ok();
            assert_eq!(got, want, "{text}");
            if let Some(t) = got {
                assert_eq!(t.to_string(), text);
            }
        }
    }

    #[test]
    fn business_hours_defer_to_the_next_weekday_opening() {
        let b =
            BusinessHours { time_zone: TimeZone::UTC, open: "09:00".parse().unwrap(), close: "17:00".parse().unwrap() };
        let cases = [
            ("2026-11-18T10:00:00Z", "2026-11-18T10:00:00Z"), // Wednesday, open
            ("2026-11-18T06:00:00Z", "2026-11-18T09:00:00Z"), // Wednesday, before opening
            ("2026-11-18T17:00:00Z", "2026-11-19T09:00:00Z"), // Wednesday, at closing
            ("2026-11-20T18:00:00Z", "2026-11-23T09:00:00Z"), // Friday evening
            ("2026-11-21T12:00:00Z", "2026-11-23T09:00:00Z"), // Saturday
            ("2026-11-22T23:59:00Z", "2026-11-23T09:00:00Z"), // Sunday night
        ];
        for (at, want) in cases {
            assert_eq!(b.next_open(ts(at)), ts(want), "{at}");
        }
    }

    #[test]
    fn the_ladder_repeats_rounds_at_the_configured_interval() {
        let p = EscalationPolicy {
            id: "p".into(),
            name: "p".into(),
            steps: vec![
                Step { delay: Duration::ZERO, targets: vec![] },
                Step { delay: Duration::from_mins(10), targets: vec![] },
            ],
            repeat: 1,
            repeat_every: Some(Duration::from_mins(30)),
            business_hours: None,
        };
        let got: Vec<(u32, usize, i64)> =
            p.ladder().into_iter().map(|(r, i, d)| (r, i, d.as_millis() / 60_000)).collect();
        assert_eq!(got, [(0, 0, 0), (0, 1, 10), (1, 0, 30), (1, 1, 40)]);
        let once = EscalationPolicy { repeat_every: None, ..p };
        assert_eq!(once.ladder().len(), 2, "a repeat without an interval runs once");
    }
}
